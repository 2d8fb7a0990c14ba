"""The product category: prices, need cycles, segments and the lead funnel."""

from __future__ import annotations

from dataclasses import dataclass

from sim.config.base import PROB, param, sub

SEG_SRC = "assumption; DOMAIN.md (Honor's four tiers: ordinary users want service and a " \
          "contact, fans news, KOCs a voice, enthusiasts co-creation)"


@dataclass
class SegmentProfile:
    """One of Honor's need tiers: its share of users and how it responds to each lever."""

    share: float = param(0.25, 0.0, 1.0, unit="share of users", source=SEG_SRC)
    spend_mult: float = param(1.0, 0.0, 50.0, unit="x mean spend", source="DOMAIN.md: super "
                              "users spend 5-10x an ordinary user")
    service_need: float = param(1.0, 0.0, 5.0, unit="x response to service", source=SEG_SRC)
    news_need: float = param(1.0, 0.0, 5.0, unit="x response to content", source=SEG_SRC)
    recognition_need: float = param(1.0, 0.0, 5.0, unit="x response to recognition (KOC "
                                    "status, events)", source=SEG_SRC)
    deal_mult: float = param(1.0, 0.0, 5.0, unit="x deal-proneness", source=SEG_SRC)
    referral_mult: float = param(1.0, 0.0, 50.0, unit="x referral rate", source="assumption; "
                                 "DOMAIN.md: KOCs influence their friends")


def _ordinary():
    return SegmentProfile(share=0.70, spend_mult=0.8, service_need=1.3, news_need=0.3,
                          recognition_need=0.2, deal_mult=1.1, referral_mult=1.0)


def _fan():
    return SegmentProfile(share=0.20, spend_mult=1.2, service_need=1.0, news_need=1.0,
                          recognition_need=0.6, deal_mult=0.7, referral_mult=1.5)


def _koc():
    return SegmentProfile(share=0.07, spend_mult=2.0, service_need=0.8, news_need=1.2,
                          recognition_need=1.5, deal_mult=0.8, referral_mult=4.0)


def _enthusiast():
    return SegmentProfile(share=0.03, spend_mult=5.0, service_need=0.8, news_need=1.5,
                          recognition_need=1.5, deal_mult=0.6, referral_mult=4.0)


@dataclass
class SegmentsConfig:
    """Honor's four need tiers (DOMAIN.md, Actors). Shares must sum to 1."""

    ordinary: SegmentProfile = sub(_ordinary)
    fan: SegmentProfile = sub(_fan)
    koc: SegmentProfile = sub(_koc)
    enthusiast: SegmentProfile = sub(_enthusiast)

    def profiles(self) -> list[SegmentProfile]:
        return [self.ordinary, self.fan, self.koc, self.enthusiast]


@dataclass
class FunnelConfig:
    """A referred (or event-invited) prospect: registration -> trial -> purchase."""

    register_prob: float = param(0.5, **PROB, source="assumption: a recommended friend "
                                 "registers (adds the account / app)")
    trial_prob: float = param(0.6, **PROB, source="assumption; Zeekr: registration -> test "
                              "drive 27% (car preset)")
    purchase_prob: float = param(0.67, **PROB, source="assumption; Zeekr: registration -> "
                                 "purchase 20%, i.e. 74% of test drives (car preset)")
    trial_delay_days: float = param(7.0, 0.0, 365.0, unit="days, mean", source="assumption")
    purchase_delay_days: float = param(7.0, 0.0, 365.0, unit="days, mean", source="assumption")


@dataclass
class MarketConfig:
    name: str = param("phone", source="preset name")
    price: float = param(2000.0, 1.0, 1e7, unit="yuan per purchase (mean user)",
                         source="assumption: mid-range Android phone")
    gross_margin: float = param(0.15, 0.0, 1.0, unit="share of net revenue",
                                source="assumption: hardware margin")
    need_cycle_days: float = param(1095.0, 1.0, 10_000.0, unit="days (mean repurchase interval)",
                                   source="DOMAIN.md: phones ~3 years")
    need_cycle_shape: float = param(3.0, 1.0, 20.0, unit="Weibull shape",
                                    source="assumption: replacement hazard rises with device age")
    need_cycle_spread: float = param(0.25, 0.0, 2.0, unit="lognormal sigma of per-user cycle",
                                     source="assumption")
    spend_sigma: float = param(0.8, 0.0, 3.0, unit="lognormal sigma of spend multiplier",
                               source="assumption: heavy tail so top 20% of buyers give ~60-70% "
                                      "of revenue (LITERATURE #32)")
    add_friend_rate: float = param(0.25, **PROB, source="seed 002: package-card add-friend rate "
                                   "20%+; assumption for in-store buyers asked by staff")
    brand_share: float = param(0.18, **PROB,
                               source="assumption: Honor ~first in China Android share (seed 000)")
    initial_member_share: float = param(0.02, **PROB,
                                        source="DOMAIN.md: Honor 100M users, groups ~1M")
    initial_customer_share: float = param(0.18, **PROB,
                                          source="assumption: = brand share of current devices")
    deal_prone_a: float = param(2.0, 0.01, 100.0, unit="Beta a of deal-proneness (0-1)",
                                source="assumption: Beta(2, 3), mean 0.4; deal-prone shoppers "
                                       "are a minority (Blattberg & Neslin 1990)")
    deal_prone_b: float = param(3.0, 0.01, 100.0, unit="Beta b of deal-proneness (0-1)",
                                source="assumption: Beta(2, 3), mean 0.4")
    sociability_sigma: float = param(0.5, 0.0, 3.0, unit="lognormal sigma of sociability (mean 1; "
                                     "multiplies the referral rate)", source="assumption")
    launch_every_days: int = param(0, 0, 3650, unit="days between product launches (0: none)",
                                   source="assumption: a flagship launch a year for phones; "
                                   "seed 000: presale windows pull prospects into groups")
    segments: SegmentsConfig = sub(SegmentsConfig)
    funnel: FunnelConfig = sub(FunnelConfig)

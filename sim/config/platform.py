"""Platform facts (channels, groups) and the two structural choices: landing channel, dealer mode."""

from __future__ import annotations

from dataclasses import dataclass

from sim.config.base import PROB, param, sub

CHANNELS = ("personal_wechat", "wecom", "official_account")
DEALER_MODES = ("store_run", "brand_central", "co_build")


@dataclass
class ChannelProfile:
    """What a landing channel does to the relationship (DOMAIN.md, channel table)."""

    monthly_churn: float = param(0.055, **PROB, source="seed 002: friend churn personal WeChat "
                                 "5-6%, WeCom 30-40%; official account: loses most followers "
                                 "(DOMAIN.md). Read as strategy.churn.channel_churn_reading "
                                 "says (default: the share of a new cohort lost in 30 days)")
    reach: float = param(1.0, 0.0, 1.0, unit="share of messages and answers that reach the user",
                         source="assumption")
    trust: float = param(1.0, 0.0, 2.0, unit="x satisfaction gained from service and content",
                         source="assumption; DOMAIN.md: WeCom feels like talking to a brand")
    friend_cap: int = param(5000, 1, 10_000_000, unit="friends per staff account",
                            source="LITERATURE #37: personal WeChat 5,000")
    daily_add_limit: int = param(100, 1, 1_000_000, unit="safe adds per account per day",
                                 source="assumption (practitioner: add limits, LITERATURE #37)")
    ban_hazard: float = param(0.002, 0.0, 1.0, unit="ban hazard per add above the limit",
                              source="assumption; DOMAIN.md: accounts banned when adding too fast")
    cost_per_member_month: float = param(0.5, 0.0, 1e6, unit="yuan per member per month",
                                         source="assumption: accounts, devices, licences")
    service_productivity: float = param(1.0, 0.01, 100.0, unit="x answers per service agent-day "
                                        "for members of this channel",
                                        source="personal WeChat 1 (the reference); WeCom 3: seed "
                                        "002, staff productivity x3 after the WeCom/personal "
                                        "split, credited to WeCom's tooling (assumption); "
                                        "official account 1 (no figure)")
    new_account_days: int = param(0, 0, 3650, unit="days an account counts as new (not yet "
                                  "warmed up: 养号)", source="seed 002: newly registered WeCom "
                                  "accounts were banned within two days of bulk adding "
                                  "(\"not warmed up\"); 30 for WeCom is an assumption")
    new_account_add_limit: int = param(1_000_000, 1, 1_000_000, unit="safe adds per new account "
                                       "per day", source="assumption: WeCom's risk control on "
                                       "new accounts (seed 002)")
    new_account_ban_hazard: float = param(0.0, 0.0, 1.0, unit="ban hazard per add above the "
                                          "new-account limit", source="seed 002: five new WeCom "
                                          "accounts banned in two days; magnitude an assumption "
                                          "(personal WeChat's ban_hazard)")


def _personal():
    return ChannelProfile()


def _wecom():
    return ChannelProfile(monthly_churn=0.35, reach=1.0, trust=0.8, friend_cap=20_000,
                          daily_add_limit=1_000_000, ban_hazard=0.0, cost_per_member_month=0.3,
                          service_productivity=3.0, new_account_days=30,
                          new_account_add_limit=100, new_account_ban_hazard=0.002)


def _official_account():
    return ChannelProfile(monthly_churn=0.5, reach=0.3, trust=0.6, friend_cap=10_000_000,
                          daily_add_limit=1_000_000, ban_hazard=0.0, cost_per_member_month=0.05)


@dataclass
class ChannelsConfig:
    """Each channel's behaviour; the landing channel (``channel.landing``) picks one for newcomers."""

    personal_wechat: ChannelProfile = sub(_personal)
    wecom: ChannelProfile = sub(_wecom)
    official_account: ChannelProfile = sub(_official_account)

    def profiles(self) -> list[ChannelProfile]:
        return [self.personal_wechat, self.wecom, self.official_account]


@dataclass
class ChannelConfig:
    """Where newcomers land (DOMAIN.md question 3), config group ``channel/``."""

    landing: str = param("personal_wechat", source="choice",
                         doc="personal_wechat | wecom | official_account")
    transfer_on_purchase: bool = param(False, source="seed 002: WeCom for first orders, personal "
                                       "WeChat for repeat customers", doc="move buyers to personal WeChat")
    overflow_to_official_account: bool = param(
        False, source="seed 002: when staff accounts filled within weeks the official account "
        "was the stopgap, and it lost most of those followers", doc="buyers staff cannot add "
        "(accounts full) are asked to follow the official account instead")
    accounts_warmed: bool = param(True, source="seed 002: the brand had a dozen warmed-up "
                                  "personal accounts; the WeCom accounts it switched to were new",
                                  doc="staff accounts are warmed up at day 0 (false: opened on "
                                  "day 0, new for channels.*.new_account_days)")


@dataclass
class TouchpointsConfig:
    """Touchpoints a member holds at once (DOMAIN.md, channel combinations; seeds 000, 002, 003).

    A member can hold a staff account (personal WeChat or WeCom), a group, the official account
    and the mini-program at the same time; quitting one is not leaving the private domain."""

    follow_official_account: float = param(0.3, **PROB, source="assumption; seed 003: official "
                                           "account + personal account is a common combination",
                                           doc="share of newcomers on a staff account who also "
                                           "follow the official account")
    group_exit_per_month: float = param(0.03, **PROB, source="assumption; DOMAIN.md: members mute "
                                        "or quit groups that spam or die", doc="share of a neutral "
                                        "group's members who quit the group (not the staff "
                                        "account) in 30 days")
    group_exit_beta: float = param(2.0, 0.0, 20.0, unit="log group-exit hazard ratio per unit of "
                                   "activity below groups.neutral_activity", source="assumption; "
                                   "seed 002: spam buries posts, dead groups")
    divert_per_month: float = param(0.1, **PROB, source="assumption; seed 003: the official "
                                    "account diverts followers to personal accounts with perks "
                                    "and 1:1 advice", doc="share of official-account-only "
                                    "followers moved to a staff account in 30 days (while the "
                                    "store's accounts have room)")
    escalate_share: float = param(0.5, **PROB, source="assumption; seed 003: personal questions "
                                  "(prizes, complaints) are taken from the group to 1:1",
                                  doc="share of a group-only member's service questions that "
                                  "escalate to a staff account (the member then holds one)")
    presale_days: int = param(14, 1, 365, unit="days of presale before each launch",
                              source="assumption; seed 000: presale windows")
    presale_join_prob: float = param(0.0, **PROB, source="seed 000: at presale, gifts and "
                                     "group-only offers pull prospects into groups; magnitude "
                                     "an assumption", doc="share of the store's prospects pulled "
                                     "into a group over one presale window (group-only members)")
    presale_gift_cost: float = param(20.0, 0.0, 1e6, unit="yuan per prospect pulled in",
                                     source="assumption: presale gift")
    moments_cap_views: int = param(10_000, 0, 10_000_000_000, unit="WeCom moments views per day",
                                   source="seed 002: with fewer than 50 active staff, WeCom "
                                   "moments are seen by 10,000 people a day")
    moments_cap_staff: int = param(50, 0, 1_000_000, unit="active staff accounts",
                                   source="seed 002")
    moments_share: float = param(0.5, **PROB, source="assumption; seed 002: moments are an "
                                 "important way to reach users", doc="share of a WeCom member's "
                                 "content reach that comes through moments")


@dataclass
class GroupsConfig:
    """Community groups (社群): capacity, activity dynamics, death (Qiu et al. 2016)."""

    capacity: int = param(500, 2, 100_000, unit="members per group", source="LITERATURE #37: "
                          "WeChat group <= 500 members")
    decay_days: float = param(45.0, 1.0, 3650.0, unit="days for activity to fall by e without "
                              "stimulus", source="assumption; DOMAIN.md: groups decay without stimulus")
    dead_below: float = param(0.1, 0.0, 1.0, unit="activity (0-1) under which a group is dead",
                              source="assumption")
    social_lift: float = param(0.1, 0.0, 1.0, unit="activity per day from members' own talk at "
                               "full activity and satisfaction", source="assumption: activity feeds on itself "
                               "(bimodal group lifetimes, Qiu et al. 2016)")
    staff_lift: float = param(0.02, 0.0, 1.0, unit="activity per day from a fully motivated "
                              "store owner", source="assumption")
    brand_lift: float = param(0.03, 0.0, 1.0, unit="activity per themed day or content post run "
                              "by the brand", source="seed 002: themed days lift activity")
    koc_lift: float = param(0.01, 0.0, 1.0, unit="activity per trained KOC post",
                            source="assumption; DOMAIN.md: KOCs help run groups (Zeekr)")
    promo_spam: float = param(0.01, 0.0, 1.0, unit="activity lost per promotion",
                              source="seed 002: promotions flood groups, posts get buried")
    churn_beta: float = param(1.0, 0.0, 20.0, unit="log churn hazard ratio in a dead group vs a "
                              "fully active one", source="assumption; DOMAIN.md: dead groups")
    referral_lift: float = param(2.0, 0.0, 20.0, unit="log referral-rate ratio per unit of group "
                                 "activity above 0.5", source="assumption; DOMAIN.md: NIO's "
                                 "community gives 55% referral sales vs 8-10% at traditional carmakers")
    loyalty_lift: float = param(0.1, 0.0, 1.0, unit="brand-choice probability added at full "
                                "group activity", source="seed 000: community members buy more")
    initial_activity: float = param(0.5, 0.0, 1.0, unit="0-1", source="assumption")
    neutral_activity: float = param(0.5, 0.0, 1.0, unit="activity (0-1) at which group effects on "
                                    "churn, referral and brand choice vanish; also the value for "
                                    "users outside any group", source="assumption: the middle "
                                    "of the scale")
    cost_per_group_month: float = param(50.0, 0.0, 1e6, unit="yuan per live group per month",
                                        source="assumption: operator time")


@dataclass
class DealerConfig:
    """Who owns the store's customers (DOMAIN.md: three dealer modes), config group ``dealer/``."""

    mode: str = param("co_build", source="choice", doc="store_run | brand_central | co_build")
    attribution: float = param(1.0, 0.0, 1.0, unit="share of private-domain sales credited to "
                               "the store", source="DOMAIN.md: co-build attributes mini-program "
                               "sales to the store; store-run staff doubt attribution")
    brand_operates: bool = param(True, source="DOMAIN.md: brand-central and co-build: the brand "
                                 "runs engagement", doc="the brand runs themed days and content in groups")
    shadow_share: float = param(0.0, **PROB, source="DOMAIN.md: brand-central: stores distrust "
                                "the brand and put users they add into their own shadow groups")
    group_gifts: float = param(0.5, 0.0, 10.0, unit="x added recruit probability from presale "
                               "group-only gifts", source="DOMAIN.md: co-build pulls users into "
                               "groups at presale with group-only gifts")
    effort_base: float = param(0.05, 0.0, 1.0, unit="staff effort (0-1) with no attribution",
                               source="assumption")
    effort_per_attribution: float = param(0.8, 0.0, 1.0, unit="effort added by full attribution",
                                          source="assumption; DOMAIN.md: incentives drive staff")
    add_effort_floor: float = param(0.5, 0.0, 1.0, unit="share of market.add_friend_rate staff "
                                    "reach with no effort (the rest grows with effort)",
                                    source="assumption: buyers scan the package card unasked "
                                           "(seed 002)")
    staff_cost_per_month: float = param(0.0, 0.0, 1e7, unit="yuan per staff member per month "
                                        "paid by the brand", source="assumption")

"""The brand's strategy: every lever it pulls, with its cost."""

from __future__ import annotations

from dataclasses import dataclass

from sim.config.base import PROB, param, sub


@dataclass
class AcquisitionConfig:
    staff_per_store: int = param(2, 1, 100, unit="staff per store", source="assumption")
    users_per_store: int = param(2000, 10, 10_000_000, unit="real users per store catchment",
                                 source="assumption")


@dataclass
class PromotionConfig:
    per_week: float = param(1.0, 0.0, 7.0, unit="promotion messages per week", source="strategy")
    depth: float = param(0.10, 0.0, 0.9, unit="discount share of price", source="strategy")
    acceleration: float = param(3.4, 0.0, 1000.0, unit="added x need hazard on a promotion "
                                "day per unit of depth x deal-proneness", source="calibrated: "
                                "with switching, stockpiling and expansion, 20% off lifts the "
                                "day's purchases by reached members ~73% (elasticity -3.6, "
                                "Bijmolt et al. 2005); acceleration ~45% of the bump (Pauwels "
                                "et al. 2002: incidence/timing dominates)")
    switching: float = param(1.55, 0.0, 100.0, unit="added brand-choice probability per unit "
                             "of depth x deal-proneness", source="calibrated: about a third of "
                             "the unit bump is taken from other brands (van Heerde, Gupta & "
                             "Wittink 2003)")
    stockpiling: float = param(0.9, 0.0, 100.0, unit="extra units per promotion purchase per "
                               "unit of depth x deal-proneness; each delays the next need by a "
                               "mean cycle", source="calibrated: ~12% of the bump (quantity; "
                               "Pauwels et al. 2002)")
    expansion: float = param(0.77, 0.0, 100.0, unit="extra units consumed per promotion "
                             "purchase per unit of depth x deal-proneness (no delay)",
                             source="calibrated: ~10% of the bump (category expansion; van "
                                    "Heerde et al. 2003)")
    full_price_penalty: float = param(1.0, 0.0, 10.0, unit="brand-choice probability lost at "
                                      "full price per unit of deal-proneness gained",
                                      source="assumption; Mela, Gupta & Lehmann 1997: heavy "
                                             "promotion makes consumers more price-sensitive")
    fatigue_per_message: float = param(0.05, 0.0, 10.0, unit="fatigue units per message",
                                       source="assumption (subscriber fatigue, LITERATURE P19)")
    fatigue_halflife_days: float = param(30.0, 0.5, 3650.0, unit="days", source="assumption")
    annoyance: float = param(0.005, 0.0, 1.0, unit="satisfaction lost per promo by a service-"
                             "seeking user", source="DOMAIN.md: promotion spam buries posts, "
                             "hurts the experience (seed 000)")
    share_prob: float = param(0.05, 0.0, 1.0, unit="probability a fully deal-prone member "
                              "forwards a promotion's coupon to a friend (x deal-proneness)",
                              source="assumption; seeds 000/002: coupons shared to friends")
    coupon_days: int = param(7, 0, 365, unit="days a shared coupon stays valid",
                             source="assumption")
    delight: float = param(0.15, 0.0, 10.0, unit="satisfaction gained per promotion per unit of "
                           "depth x deal-proneness (x the room left)", source="assumption, set "
                           "so that at 15% off a promotion's average effect on satisfaction is "
                           "about zero (DelVecchio, Henard & Freling 2006: no average effect on "
                           "brand preference)")
    deal_drift: float = param(0.015, 0.0, 1.0, unit="deal-proneness gained per promotion "
                              "purchase per unit of depth", source="assumption; Mela, Gupta & "
                              "Lehmann 1997: promotions make consumers more promotion-sensitive "
                              "over years")
    cost_per_campaign: float = param(200.0, 0.0, 1e9, unit="yuan per promotion campaign",
                                     source="assumption")


@dataclass
class ServiceConfig:
    """Answers, after-sales and proactive care: what members ask, who answers, what it costs.

    Demand: a base rate per member, plus questions after each purchase (delivery, setup,
    returns) and on promotion days (the deal). Supply: agents hired per member, each answering
    ``answers_per_agent_day`` x the channel's tooling (``channels.*.service_productivity``).
    Agents are paid whether or not they are busy; a knowledge base is a fixed monthly cost
    that follows the answer quality above ``knowledge_base_from``.
    """

    incidents_per_year: float = param(2.0, 0.0, 365.0, unit="questions/faults per member-year "
                                      "(base rate, before purchases and promotions)",
                                      source="assumption")
    incidents_per_purchase: float = param(0.2, 0.0, 20.0, unit="questions per brand purchase "
                                          "(delivery, setup, returns), spread over "
                                          "after_sale_days", source="assumption: about one "
                                          "order in five brings a question")
    after_sale_days: float = param(7.0, 0.5, 365.0, unit="days: mean delay of a purchase's "
                                   "questions (exponential)", source="the 7-day no-reason "
                                   "return window of online sales in China (Consumer Rights "
                                   "Protection Law art. 25) bounds most after-sales contact")
    promo_questions: float = param(0.01, 0.0, 1.0, unit="questions per member reached per "
                                   "promotion day (how the deal works)",
                                   source="assumption: 1 in 100 recipients asks; seed 002: "
                                   "promotion waves flood groups")
    fault_share: float = param(0.3, **PROB, source="assumption: share of incidents that are "
                               "product faults (the rest questions)")
    resolve_prob: float = param(0.6, **PROB, source="strategy: answer quality; above "
                                "knowledge_base_from it is bought with a knowledge base")
    knowledge_base_from: float = param(0.6, **PROB, source="assumption: what trained agents "
                                       "resolve without a knowledge base (the default "
                                       "resolve_prob, so the default pays none)")
    knowledge_base_cost_month: float = param(1500.0, 0.0, 1e9, unit="yuan per month per halving "
                                             "of the unresolved share below knowledge_base_from "
                                             "(fixed: not per member)",
                                             source="assumption: an AI customer-service licence "
                                             "of ~10-30k yuan a year plus a part-time editor; "
                                             "seed 000: an AI knowledge base (Honor); NIO: "
                                             "170k answered items")
    capacity_per_1k: float = param(10.0, 0.0, 1e6, unit="answers per day per 1,000 members the "
                                   "brand hires agents for (at answers_per_agent_day each)",
                                   source="strategy: staffing; default ~1.8x the base demand "
                                   "(2 per member-year = 5.5 per 1,000 a day) before purchases "
                                   "and promotions")
    answers_per_agent_day: float = param(40.0, 0.1, 10_000.0, unit="answers per agent per "
                                         "calendar day without channel tooling",
                                         source="Comm100 2026 live-chat benchmark: 1,201 chats "
                                         "per agent-month (~40 a calendar day); LiveAgent: 40 "
                                         "tickets per 8-hour shift")
    wage_per_agent_month: float = param(6000.0, 0.0, 1e7, unit="yuan per agent-month, fully "
                                        "loaded (paid busy or idle)",
                                        source="online customer service 3,500-6,000 yuan a "
                                        "month (2024 salary summaries, low reliability) plus "
                                        "social insurance (assumption)")
    seat_cost_per_agent_month: float = param(200.0, 0.0, 1e6, unit="yuan per agent-month "
                                             "(customer-service software seat)",
                                             source="assumption")
    patience_days: float = param(2.0, 0.01, 365.0, unit="days of waiting that cut resolution "
                                 "by e; waiting members give up at rate 1/patience",
                                 source="assumption; NIO answers within 24 h")
    gain: float = param(0.08, 0.0, 1.0, unit="satisfaction per resolved incident",
                        source="assumption; seed 000: service raises satisfaction")
    loss: float = param(0.12, 0.0, 1.0, unit="satisfaction per unresolved incident",
                        source="assumption")
    fault_loss_mult: float = param(2.0, 0.0, 10.0, unit="x loss for an unresolved fault",
                                   source="assumption")
    proactive_care: float = param(0.0, **PROB,
                                  source="seed 000: proactive care ('phone dropped: nearest "
                                         "repair shop'); share of faults pre-empted")
    cost_per_care_contact: float = param(5.0, 0.0, 1e6, unit="yuan per proactive care contact",
                                         source="assumption: an answer's agent time (6,000 "
                                         "yuan / 30 days / 40 answers) plus fault detection")
    negative_wom: float = param(0.1, 0.0, 1.0, unit="brand-choice loss of a friend told of an "
                                "unresolved fault", source="assumption; DOMAIN.md: unresolved "
                                "problems spread negative word of mouth")
    wom_halflife_days: float = param(90.0, 1.0, 3650.0, unit="days", source="assumption")


@dataclass
class ContentConfig:
    per_week: float = param(1.0, 0.0, 14.0, unit="content posts per week", source="strategy")
    themed_days_per_week: float = param(0.0, 0.0, 7.0, unit="themed group days per week",
                                        source="seed 002: food day, game day, welfare day")
    gain: float = param(0.01, 0.0, 1.0, unit="satisfaction per post for news-seeking users",
                        source="assumption; DOMAIN.md: fans want news and product information")
    cost_per_post: float = param(100.0, 0.0, 1e9, unit="yuan per post or themed day",
                                 source="assumption")


@dataclass
class ReferralConfig:
    per_year: float = param(0.5, 0.0, 365.0, unit="recommendations per satisfied customer-year",
                            source="assumption")
    reward: float = param(0.0, 0.0, 1e6, unit="yuan per referred purchase", source="strategy")
    reward_lift: float = param(0.002, 0.0, 1.0, unit="x referral rate added per yuan of reward",
                               source="assumption; Schmitt et al. 2011: EUR 25 reward, ~60% ROI")
    organic_lift: float = param(0.5, 0.0, 10.0, unit="x brand choice added by a recommendation "
                                "heard (capped at 2x with word of mouth)", source="assumption; "
                                "DOMAIN.md: recommendations convert far better than ads")
    memory_halflife_days: float = param(90.0, 1.0, 3650.0, unit="days for a recommendation's "
                                        "effect to halve", source="assumption")
    satisfaction_power: float = param(4.0, 0.0, 20.0, unit="exponent of satisfaction / pivot in "
                                      "the referral hazard", source="assumption: satisfied users "
                                      "(promoters) recommend, the rest rarely (Reichheld 2003)")


@dataclass
class ChurnConfig:
    fatigue_beta: float = param(0.6, 0.0, 20.0, unit="log hazard ratio per fatigue unit",
                                source="assumption")
    dissatisfaction_beta: float = param(3.0, 0.0, 20.0, unit="log hazard ratio per unit of "
                                        "satisfaction below strategy.satisfaction.pivot",
                                        source="assumption")
    frailty_shape: float = param(0.7, 0.0, 1e6, unit="gamma shape k of each member's churn "
                                 "frailty (mean 1, variance 1/k); 0 switches frailty off "
                                 "(the homogeneous limit k -> inf)",
                                 source="Fader & Hardie 2007 (LITERATURE #31): sBG alpha 0.704 "
                                 "(regular) and 0.668 (high end); a gamma frailty of shape k "
                                 "has the sBG's long-run tail when k = alpha")
    channel_churn_reading: str = param(
        "cohort_share", source="seed 002 gives WeCom 30-40% vs personal WeChat 5-6% with no "
        "period, as the reason why fast daily friend growth gave a small net gain: a share of "
        "the friends added that is lost, read here over their first 30 days",
        doc="how channels.*.monthly_churn is read: cohort_share (the share of a new cohort lost "
            "in its first 30 days) | monthly_hazard (1 - exp(-30 h) for a member of mean "
            "frailty); the two agree without frailty")


@dataclass
class SatisfactionConfig:
    initial_mean: float = param(0.72, 0.0, 1.0, unit="0-1 scale", source="assumption")
    initial_sd: float = param(0.15, 0.0, 0.5, unit="0-1 scale", source="assumption")
    reversion_days: float = param(180.0, 1.0, 1e5, unit="days to drift back to initial mean",
                                  source="assumption")
    loyalty_base: float = param(0.35, **PROB, source="assumption: probability a member at "
                                "satisfaction 0.5 buys the brand when need arrives")
    loyalty_slope: float = param(1.2, 0.0, 10.0, unit="probability per satisfaction unit",
                                 source="assumption")
    loyalty_pivot: float = param(0.5, 0.0, 1.0, unit="satisfaction (0-1) at which brand choice "
                                 "is loyalty_base", source="assumption: the middle of the scale")
    pivot: float = param(0.7, 0.01, 1.0, unit="satisfaction (0-1) at which churn and referral "
                         "hazards take their base values", source="assumption: a passive "
                         "(score 7 of 10, Reichheld 2003) neither leaves nor recommends more "
                         "than the base rate")


@dataclass
class KocProgramConfig:
    """Find, train and reward KOCs (DOMAIN.md; seed 004: survey/application, training)."""

    enabled: bool = param(False, source="strategy", doc="run a KOC program")
    selection: str = param("application", source="seed 004: survey and application; or by reach",
                           doc="application | reach")
    share: float = param(0.02, 0.0, 0.5, unit="share of members made KOCs", source="strategy")
    training: float = param(0.5, 0.0, 1.0, unit="0-1 training intensity", source="strategy")
    referral_gain: float = param(2.0, 0.0, 50.0, unit="x referral rate added at full training",
                                 source="assumption; Zeekr: 165 KOC-referred orders in 8 days")
    conversion_gain: float = param(0.5, 0.0, 10.0, unit="x registration probability added at "
                                   "full training", source="assumption; DOMAIN.md: KOC referrals "
                                   "convert far better than ads")
    answers_per_day: float = param(0.5, 0.0, 100.0, unit="questions answered per KOC per day at "
                                   "full training", source="assumption; Zeekr volunteers, NIO "
                                   "300 experts")
    posts_per_week: float = param(1.0, 0.0, 50.0, unit="UGC posts per KOC per week",
                                  source="assumption")
    recognition_gain: float = param(0.02, 0.0, 1.0, unit="satisfaction per month from status",
                                    source="DOMAIN.md: titles, certificates, early access")
    reward_per_month: float = param(50.0, 0.0, 1e6, unit="yuan per KOC per month",
                                    source="assumption")
    churn_mult: float = param(0.5, 0.0, 10.0, unit="x churn hazard of a KOC", source="assumption")
    top_up_every_days: int = param(30, 1, 3650, unit="days between top-ups of the program",
                                   source="assumption: a monthly selection round (seed 004)")


@dataclass
class MembershipConfig:
    """Points, tiers and paid VIP (DOMAIN.md: membership and points; Xibei 299 yuan a year)."""

    enabled: bool = param(False, source="strategy", doc="points and tiers")
    points_per_yuan: float = param(1.0, 0.0, 100.0, unit="points per yuan spent", source="assumption")
    task_points_per_week: float = param(20.0, 0.0, 1e5, unit="points per week for check-ins, "
                                        "posts and shares at full group activity",
                                        source="DOMAIN.md: points for tasks")
    senior_points: float = param(2000.0, 0.0, 1e9, unit="lifetime points for tier 2",
                                 source="assumption")
    premium_points: float = param(10000.0, 0.0, 1e9, unit="lifetime points for tier 3",
                                  source="assumption")
    tier_loyalty: float = param(0.05, 0.0, 1.0, unit="brand-choice probability added per tier "
                                "above normal", source="assumption")
    tier_churn_mult: float = param(0.8, 0.0, 1.0, unit="x churn hazard per tier above normal",
                                   source="assumption")
    redeem_at: float = param(1000.0, 1.0, 1e9, unit="points balance that is redeemed",
                             source="assumption")
    point_value: float = param(0.01, 0.0, 100.0, unit="yuan of cost per redeemed point",
                               source="assumption: 1 point ~ 1 fen")
    redeem_gain: float = param(0.03, 0.0, 1.0, unit="satisfaction per redemption",
                               source="assumption")
    vip: bool = param(False, source="strategy", doc="offer a paid VIP membership")
    vip_fee: float = param(299.0, 0.0, 1e6, unit="yuan per year", source="DOMAIN.md: Xibei 299 "
                           "yuan a year")
    vip_discount: float = param(0.1, 0.0, 0.9, unit="discount share for VIPs", source="assumption")
    vip_uptake_per_year: float = param(0.5, 0.0, 365.0, unit="upgrades per eligible member-year",
                                       source="assumption")
    vip_min_spend_year: float = param(1500.0, 0.0, 1e9, unit="yuan of expected yearly spend to "
                                      "consider VIP", source="assumption: the fee pays back")
    vip_frequency_mult: float = param(1.3, 1.0, 10.0, unit="x need hazard of a VIP",
                                      source="assumption; Xibei: super users give 40%+ of revenue")
    vip_churn_mult: float = param(0.5, 0.0, 1.0, unit="x churn hazard of a VIP",
                                  source="assumption")
    vip_renew_prob: float = param(0.7, **PROB, source="assumption")


@dataclass
class EventsConfig:
    """Offline events and clubs (NIO: 15k users a week, thousands of new users, 1,000+ leads)."""

    per_week: float = param(0.0, 0.0, 100.0, unit="events per week", source="strategy")
    capacity: int = param(100, 1, 10_000_000, unit="real attendees per event",
                          source="assumption; NIO 15k users a week across its events")
    gain: float = param(0.1, 0.0, 1.0, unit="satisfaction per event x recognition need",
                        source="assumption")
    guest_prob: float = param(0.2, **PROB, source="assumption; NIO: events bring thousands of "
                              "new users and 1,000+ leads weekly")
    cost_per_attendee: float = param(100.0, 0.0, 1e6, unit="yuan per attendee", source="assumption")
    super_user_invite_boost: float = param(4.0, 0.0, 100.0, unit="x invitation weight of a super "
                                           "user per unit of focus_super_users",
                                           source="assumption")


@dataclass
class RecallConfig:
    """Win-back of lapsed former members (seed 002: surveys and recalls of lost high-value
    users, 10+ purchases and none in six months)."""

    per_year: float = param(0.0, 0.0, 52.0, unit="contacts per lapsed former member per year",
                            source="strategy (0: no recall campaign)")
    min_purchases: int = param(2, 1, 1000, unit="brand purchases (any channel) to count as "
                               "high-value", source="seed 002 uses 10+ for fresh food; 2 suits "
                               "long cycles (assumption)")
    lapsed_days: int = param(180, 0, 3650, unit="days without a purchase", source="seed 002: "
                             "none in six months")
    rejoin_prob: float = param(0.15, **PROB, source="assumption: share of contacted former "
                               "members at satisfaction = pivot who come back")
    cost_per_contact: float = param(5.0, 0.0, 1e6, unit="yuan per contact (survey, call, "
                                    "coupon)", source="assumption")


@dataclass
class CostConfig:
    per_member_month: float = param(1.0, 0.0, 1e6, unit="yuan per member per month (operators)",
                                    source="assumption")


@dataclass
class StrategyConfig:
    name: str = param("service_led", source="preset name")
    focus_super_users: float = param(0.0, 0.0, 1.0, unit="share of service and event effort "
                                     "moved to the top-20% spenders", source="seed 004: serve "
                                     "super users; DOMAIN.md question 6")
    super_user_share: float = param(0.2, 0.01, 0.99, unit="share of users (top by spend) who "
                                    "are super users", source="LITERATURE #32: the top 20% of "
                                    "buyers give most revenue (Pareto)")
    focus_boost: float = param(2.0, 0.0, 100.0, unit="x resolution chance added for a super user "
                               "per unit of focus_super_users (the others lose what keeps the "
                               "expected number resolved unchanged)", source="assumption")
    acquisition: AcquisitionConfig = sub(AcquisitionConfig)
    promotion: PromotionConfig = sub(PromotionConfig)
    service: ServiceConfig = sub(ServiceConfig)
    content: ContentConfig = sub(ContentConfig)
    referral: ReferralConfig = sub(ReferralConfig)
    churn: ChurnConfig = sub(ChurnConfig)
    satisfaction: SatisfactionConfig = sub(SatisfactionConfig)
    koc_program: KocProgramConfig = sub(KocProgramConfig)
    membership: MembershipConfig = sub(MembershipConfig)
    events: EventsConfig = sub(EventsConfig)
    recall: RecallConfig = sub(RecallConfig)
    cost: CostConfig = sub(CostConfig)

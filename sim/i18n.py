"""The one translation table for user-facing text (CLI summary, reports, figures, dashboard).

The people who run private domains read Chinese: every string a user reads comes from
:data:`TEXT` through :func:`tr`, in ``zh`` or ``en``. Money is written as strategists write
it (:func:`money`): 1,234万 / 1.2亿 in Chinese, 12.3M / 1.2B in English.

Keys are dotted by where they are used (``cli.*``, ``kpi.*``, ``fig.*``, ``report.*``,
``dash.*``). Add a key with both languages; ``tests/test_i18n.py`` checks every key has both.
"""

from __future__ import annotations

import math

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

TEXT: dict[str, dict[str, str]] = {
    # --- kpi: headline KPI names (summary.json keys)
    "kpi.members_end": {"zh": "期末私域成员", "en": "members at end"},
    "kpi.monthly_churn_rate": {"zh": "月流失率", "en": "monthly churn"},
    "kpi.repurchase_rate": {"zh": "复购率", "en": "repurchase rate"},
    "kpi.referral_share": {"zh": "老带新占比", "en": "referral share"},
    "kpi.revenue": {"zh": "私域收入", "en": "revenue"},
    "kpi.cost": {"zh": "运营成本", "en": "cost"},
    "kpi.gross_profit": {"zh": "毛利", "en": "gross profit"},
    "kpi.roi": {"zh": "投资回报率", "en": "ROI"},
    "kpi.nps": {"zh": "净推荐值", "en": "NPS"},
    "kpi.purchases": {"zh": "购买次数", "en": "purchases"},
    "kpi.incremental_revenue": {"zh": "增量收入", "en": "incremental revenue"},
    "kpi.incremental_gross_profit": {"zh": "增量毛利", "en": "incremental gross profit"},
    "kpi.incremental_roi": {"zh": "增量投资回报率", "en": "incremental ROI"},
    # --- unit: units
    "unit.yuan": {"zh": "元", "en": "yuan"},
    "unit.users": {"zh": "人", "en": "users"},
    "unit.days": {"zh": "天", "en": "days"},
    # --- cli: the run summary and command-line messages
    "cli.scale": {"zh": "（×{scale} = {real} 真实用户）", "en": "(x{scale} = {real} real users)"},
    "cli.members": {"zh": "  私域成员 {start} → {end}（累计 {ever}），其中客户 {customers}",
                    "en": "  members {start} -> {end} (ever {ever}), customers {customers}"},
    "cli.churn": {"zh": "  月流失率 {churn}（累计成员中 {churned} 已离开），复购率 {repurchase}，"
                        "老带新占比 {referral}",
                  "en": "  churn {churn}/month ({churned} of ever-members left), repurchase "
                        "{repurchase}, referral share {referral}"},
    "cli.money": {"zh": "  购买 {purchases} 次，收入 {revenue} 元，成本 {cost} 元，投资回报率 {roi}，"
                        "净推荐值 {nps}，前 20% 用户收入占比 {top20}",
                  "en": "  purchases {purchases}, revenue {revenue} yuan, cost {cost} yuan, ROI "
                        "{roi}, NPS {nps}, top-20% revenue share {top20}"},
    "cli.timing": {"zh": "  构建 {build} 秒，运行 {run} 秒（每天 {per_day} 毫秒）",
                   "en": "  built in {build} s, ran in {run} s ({per_day} ms/day)"},
    "cli.files": {"zh": "文件：{files}", "en": "files: {files}"},
    "cli.na": {"zh": "不适用", "en": "n/a"},
    # --- fig: figure titles and axis labels
    "fig.title": {"zh": "{market} / {strategy}，{users} 用户，种子 {seed}",
                  "en": "{market} / {strategy}, {users} users, seed {seed}"},
    "fig.day": {"zh": "天", "en": "day"},
    "fig.week": {"zh": "周", "en": "week"},
    "fig.users": {"zh": "人数", "en": "users"},
    "fig.users_per_week": {"zh": "每周人数", "en": "users per week"},
    "fig.members_active": {"zh": "私域成员（活跃）", "en": "members (active)"},
    "fig.customers_among": {"zh": "成员中的客户", "en": "customers among members"},
    "fig.churned_cum": {"zh": "已流失（累计）", "en": "churned (cumulative)"},
    "fig.new_customers": {"zh": "新客：{source}", "en": "new customers: {source}"},
    "fig.source.store": {"zh": "门店", "en": "store"},
    "fig.source.referral": {"zh": "老带新", "en": "referral"},
    "fig.source.event": {"zh": "活动", "en": "event"},
    "fig.churned": {"zh": "流失", "en": "churned"},
    "fig.mean_satisfaction": {"zh": "平均满意度", "en": "mean satisfaction"},
    "fig.mean_fatigue": {"zh": "平均促销疲劳", "en": "mean promotion fatigue"},
    "fig.nps_members": {"zh": "净推荐值（成员）", "en": "NPS (members)"},
    "fig.revenue_net": {"zh": "收入（扣除折扣）", "en": "revenue (net of discounts)"},
    "fig.cost": {"zh": "成本", "en": "cost"},
    "fig.money_axis": {"zh": "累计金额（元）", "en": "yuan (cumulative)"},
    # --- report: study reports
    # (report keys: sim/experiments/report.py, summary.py, figures.py)
    "report.kpi.monthly_churn_rate": {"zh": '月流失率', "en": 'monthly churn rate'},
    "report.kpi.churned_share": {"zh": '曾入私域者的流失占比', "en": 'churned share of ever-members'},
    "report.kpi.repurchase_rate": {"zh": '复购率', "en": 'repurchase rate'},
    "report.kpi.referral_share": {"zh": '新客中老带新占比', "en": 'referral share of new customers'},
    "report.kpi.k_factor": {"zh": 'K 因子', "en": 'K-factor'},
    "report.kpi.lead_conversion": {"zh": '线索转化率', "en": 'lead conversion'},
    "report.kpi.new_customers_referral": {"zh": '老带新新客', "en": 'new customers by referral'},
    "report.kpi.new_customers_event": {"zh": '活动带来的新客', "en": 'new customers from events'},
    "report.kpi.new_customers_store": {"zh": '门店新客', "en": 'new customers from stores'},
    "report.kpi.members_end": {"zh": '期末私域成员', "en": 'members at end'},
    "report.kpi.customers_end": {"zh": '期末客户', "en": 'customers at end'},
    "report.kpi.purchases": {"zh": '购买次数', "en": 'purchases'},
    "report.kpi.revenue": {"zh": '私域收入（元）', "en": 'revenue (yuan)'},
    "report.kpi.fee_revenue": {"zh": '付费会员费收入（元）', "en": 'VIP fee revenue (yuan)'},
    "report.kpi.cost": {"zh": '运营成本（元）', "en": 'cost (yuan)'},
    "report.kpi.gross_profit": {"zh": '毛利（元）', "en": 'gross profit (yuan)'},
    "report.kpi.roi": {"zh": '投资回报率', "en": 'ROI'},
    "report.kpi.clv": {"zh": '客户终身价值（元/人）', "en": 'CLV per customer (yuan)'},
    "report.kpi.nps": {"zh": '净推荐值', "en": 'NPS'},
    "report.kpi.dead_group_share": {"zh": '死群占活群比', "en": 'dead groups per live group'},
    "report.kpi.monthly_churn_personal_wechat": {"zh": '月流失率（个人微信）', "en": 'monthly churn, personal WeChat'},
    "report.kpi.monthly_churn_wecom": {"zh": '月流失率（企业微信）', "en": 'monthly churn, WeCom'},
    "report.kpi.monthly_churn_official_account": {"zh": '月流失率（公众号）', "en": 'monthly churn, official account'},
    "report.kpi.banned_lost": {"zh": '封号损失的成员', "en": 'members lost to account bans'},
    "report.kpi.shadow_recruits": {"zh": '门店私建群截留的成员', "en": "recruits kept in stores' own groups"},
    "report.kpi.kocs_end": {"zh": '期末 KOC', "en": 'KOCs at end'},
    "report.kpi.vip_end": {"zh": '期末付费会员', "en": 'VIPs at end'},
    "report.kpi.vip_revenue_share": {"zh": '付费会员收入占比', "en": 'VIP share of revenue'},
    "report.kpi.top20_revenue_share": {"zh": '前 20% 客户收入占比', "en": 'top-20% revenue share'},
    "report.kpi.incremental_revenue": {"zh": '增量收入（元）', "en": 'incremental revenue (yuan)'},
    "report.kpi.incremental_gross_profit": {"zh": '增量毛利（元）', "en": 'incremental gross profit (yuan)'},
    "report.kpi.incremental_roi": {"zh": '增量投资回报率', "en": 'incremental ROI'},
    "report.kpi.cum_gross_profit": {"zh": '累计毛利（元）', "en": 'cumulative gross profit (yuan)'},
    "report.kpi.cum_revenue": {"zh": '累计收入（元）', "en": 'cumulative revenue (yuan)'},
    "report.kpi.cum_cost": {"zh": '累计成本（元）', "en": 'cumulative cost (yuan)'},
    "report.kpi.members": {"zh": '私域成员', "en": 'members'},
    "report.kpi.churn_30d": {"zh": '近 30 天流失率', "en": 'churn over the last 30 days'},
    "report.verdict.better": {"zh": '更好', "en": 'better'},
    "report.verdict.worse": {"zh": '更差', "en": 'worse'},
    "report.verdict.higher": {"zh": '更高', "en": 'higher'},
    "report.verdict.lower": {"zh": '更低', "en": 'lower'},
    "report.verdict.n.s.": {"zh": '不显著', "en": 'n.s.'},
    "report.verdict.not_significant": {"zh": '不显著', "en": 'not significant'},
    "report.title": {"zh": '研究报告：{name}', "en": 'Study: {name}'},
    "report.built": {"zh": 'siyu-sim 研究报告，{now} 根据 {root} 中的文件生成。', "en": 'siyu-sim study report, built {now} from the files in {root}.'},
    "report.question": {"zh": '问题', "en": 'Question'},
    "report.no_question": {"zh": '（未记录问题）', "en": '(no question recorded)'},
    "report.kind.compare": {"zh": '方案对比', "en": 'comparison'},
    "report.kind.factorial": {"zh": '杠杆归因（因子实验）', "en": 'lever attribution (factorial)'},
    "report.kind.uncertainty": {"zh": '假设不确定性（合理世界）', "en": 'uncertainty over assumptions (plausible worlds)'},
    "report.kind.optimise": {"zh": '杠杆优化（多目标）', "en": 'lever optimisation (multi-objective)'},
    "report.h.summary": {"zh": '执行摘要', "en": 'Executive summary'},
    "report.h.reading": {"zh": '解读', "en": 'Reading'},
    "report.h.kpis": {"zh": '关键指标及 95% 置信区间', "en": 'KPIs with 95% confidence intervals'},
    "report.h.figures": {"zh": '图表', "en": 'Figures'},
    "report.h.setup": {"zh": '实验设置', "en": 'Setup'},
    "report.h.horizons": {"zh": '何时见效：各时间点的指标', "en": 'When: KPIs at horizons'},
    "report.h.attribution": {"zh": '为什么：差异归因到杠杆', "en": 'Why: the difference attributed to levers'},
    "report.h.robustness": {"zh": '有多确定：合理世界中的结论', "en": 'How sure: the verdict across plausible worlds'},
    "report.h.pareto": {"zh": '怎么做：帕累托前沿', "en": 'What to do: the Pareto front'},
    "report.rebuild": {"zh": '仅凭保存的文件重建本报告：', "en": 'Rebuild this report from the saved files with'},
    "report.files": {"zh": '逐次运行数据：runs.parquet；配对差异：comparison.csv。', "en": 'Row-per-run data: runs.parquet; paired differences: comparison.csv.'},
    "report.generated": {"zh": '以下数字自动生成。95% 置信区间（配对种子上的 t 区间）不含 0 的差异称为显著；含 0 的不显著。', "en": 'Generated from the numbers below. A difference is called significant when its 95% confidence interval (t interval over paired seeds) excludes 0; one whose interval contains 0 is not significant.'},
    "report.ex.recommendation": {"zh": '建议', "en": 'Recommendation'},
    "report.ex.money": {"zh": '金额影响', "en": 'Money impact'},
    "report.ex.confidence": {"zh": '把握程度', "en": 'Confidence'},
    "report.ex.horizon": {"zh": '时间', "en": 'Horizon'},
    "report.ex.reasons": {"zh": '主要原因', "en": 'Why'},
    "report.ex.choose_all": {"zh": '建议采用 {arm}（而非 {base}）：在{where}中，{kpi}都显著更高。', "en": 'Choose {arm} over {base}: it earns significantly more {kpi} in {where}.'},
    "report.ex.avoid_all": {"zh": '建议保持 {base}（而非 {arm}）：在{where}中，{arm} 的{kpi}都显著更低。', "en": 'Keep {base} rather than {arm}: {arm} earns significantly less {kpi} in {where}.'},
    "report.ex.mixed": {"zh": '结论因市场而异：{arm} 在 {good} 的{kpi}更高；{base} 在 {bad} 更高；{ns} 无显著差异。', "en": 'It depends on the market: {arm} earns more {kpi} in {good}; {base} in {bad}; no clear difference in {ns}.'},
    "report.ex.none": {"zh": '在当前规模下{kpi}没有明确赢家：95% 置信区间都包含 0（{n} 个配对种子）。请增加种子数。', "en": 'No clear winner on {kpi} at this size: every 95% CI contains 0 ({n} paired seeds). Run more seeds.'},
    "report.ex.all_strata": {"zh": '全部 {n} 个{noun}', "en": 'all {n} {noun}'},
    "report.ex.none_list": {"zh": '无', "en": 'none'},
    "report.noun.market": {"zh": '市场', "en": 'markets'},
    "report.noun.strata": {"zh": '分层', "en": 'strata'},
    "report.ex.money_line": {"zh": '{where}：{diff}（95% 置信区间 {lo} 至 {hi}），{days} 天', "en": '{where}: {diff} (95% CI {lo} to {hi}) over {days} days'},
    "report.ex.seeds_ahead": {"zh": '{arm} 在 {where} 的 {n} 个配对种子中有 {k} 个领先', "en": '{arm} is ahead on {k} of {n} paired seeds in {where}'},
    "report.ex.worlds_ahead": {"zh": '在 {n} 个合理世界中，{arm} 有 {pct} 的世界{kpi}更高（不确定性研究）', "en": '{arm} earns more {kpi} in {pct} of {n} plausible worlds (uncertainty study)'},
    "report.ex.cross_from_start": {"zh": '{where}：{arm} 自始至终领先', "en": '{where}: {arm} is ahead from the start'},
    "report.ex.behind_throughout": {"zh": '{where}：{arm} 自始至终落后', "en": '{where}: {arm} is behind throughout'},
    "report.ex.cross_ahead": {"zh": '{where}：{arm} 从第 {day} 天起反超（各种子 {lo}–{hi} 天）', "en": '{where}: {arm} pulls ahead from day {day} (seeds: days {lo}-{hi})'},
    "report.ex.cross_behind": {"zh": '{where}：{arm} 从第 {day} 天起落后（各种子 {lo}–{hi} 天）', "en": '{where}: {arm} falls behind from day {day} (seeds: days {lo}-{hi})'},
    "report.ex.horizon_days": {"zh": '模拟 {days} 天（{years} 年）', "en": '{days} simulated days ({years} years)'},
    "report.ex.reason_lever": {"zh": '{factor}：{money}（占差异的 {share}，95% 置信区间 {lo} 至 {hi}）', "en": '{factor}: {money} ({share} of the difference, 95% CI {lo} to {hi})'},
    "report.ex.reason_avg": {"zh": '（各{noun}平均）', "en": '(average over {noun})'},
    "report.ex.reason_kpi": {"zh": '{label}：{diffs}（{verdict}）', "en": '{label}: {diffs} ({verdict})'},
    "report.ex.reason_interaction": {"zh": '交互作用 {term}：{money}', "en": 'interaction {term}: {money}'},
    "report.ex.reason_none": {"zh": '没有显著的机制差异。', "en": 'No mechanism differs significantly.'},
    "report.ex.robust": {"zh": '在 {n} 个合理世界中，{arm} 有 {pct} 的世界{kpi}更高（{sig} 显著更高，{sigb} 显著更低）。', "en": '{arm} earns more {kpi} than {base} in {pct} of {n} plausible worlds ({sig} significantly more, {sigb} significantly less).'},
    "report.ex.robust_money": {"zh": '各世界差异中位数 {median}（10%–90% 的世界：{p10} 至 {p90}）', "en": 'median difference over worlds {median} (10-90% of worlds: {p10} to {p90})'},
    "report.ex.flip_box": {"zh": '结论在以下假设下反转：{box}（覆盖 {cov} 的反转世界，框内反转占比 {dens}，总体 {base}）', "en": 'The verdict flips where {box} (covers {cov} of the flipping worlds; {dens} of the worlds in that region flip, {base} overall)'},
    "report.ex.no_flip": {"zh": '没有任何合理世界反转结论。', "en": 'No plausible world flips the verdict.'},
    "report.ex.driver": {"zh": '结论最依赖 {name}（秩相关 {rho:+.2f}）', "en": 'the verdict leans most on {name} (rank correlation {rho:+.2f})'},
    "report.ex.opt_choose": {"zh": '建议的杠杆设置（试验 {point}）：{settings}。', "en": 'Recommended lever settings (trial {point}): {settings}.'},
    "report.ex.opt_none": {"zh": '没有满足预算的试验。', "en": 'No trial met the budget.'},
    "report.ex.opt_money": {"zh": '相对 {base}：{o1} {d1}（95% 置信区间 {lo1} 至 {hi1}）；{o2} {d2}（95% 置信区间 {lo2} 至 {hi2}）', "en": 'vs {base}: {o1} {d1} (95% CI {lo1} to {hi1}); {o2} {d2} (95% CI {lo2} to {hi2})'},
    "report.ex.opt_conf": {"zh": '{n} 次试验中 {k} 个位于帕累托前沿；每个设置都在相同的 {runs} 个（市场 × 种子）上运行', "en": '{k} of {n} trials are on the Pareto front; every setting ran on the same {runs} (market x seed) runs'},
    "report.ex.opt_reason": {"zh": '{name}：{base} → {value}', "en": '{name}: {base} → {value}'},
    "report.ex.rule": {"zh": '推荐规则：前沿上第二个目标不差于基线的点中，第一个目标最好的点。', "en": 'Rule: of the front, the point best on the first objective among those not worse than the baseline on the second.'},
    "report.ex.budget": {"zh": '运营成本预算 {budget}', "en": 'operating-cost budget {budget}'},
    "report.t.base_mean": {"zh": '{base}<br>均值 [{pct}% 置信区间]', "en": '{base}<br>mean [{pct}% CI]'},
    "report.t.arm_mean": {"zh": '{arm}<br>均值 [{pct}% 置信区间]', "en": '{arm}<br>mean [{pct}% CI]'},
    "report.t.kpi": {"zh": '指标', "en": 'KPI'},
    "report.t.diff": {"zh": '配对差异<br>{arm} − {base}', "en": 'paired difference<br>{arm} &minus; {base}'},
    "report.t.diff_ci": {"zh": '差异的 {pct}% 置信区间', "en": '{pct}% CI of the difference'},
    "report.t.relative": {"zh": '相对', "en": 'relative'},
    "report.t.verdict": {"zh": '结论', "en": 'verdict'},
    "report.t.paired_seeds": {"zh": '{n} 个配对种子', "en": '{n} paired seeds'},
    "report.t.nothing": {"zh": '没有可比较的内容（只有一个方案，或没有两个方案共同运行的种子）。', "en": 'Nothing to compare (one arm, or no seed run by both arms).'},
    "report.t.note": {"zh": '配对差异：每个种子上，方案的指标减去基线在同一种子上的指标（共同随机数）；对种子取均值并给出 Student t {pct}% 置信区间。<b>置信区间包含 0 的差异不显著</b>（灰色行，结论“不显著”）。更好/更差表示显著差异是否朝该指标期望的方向。相对：差异占基线均值的比例。比率以 % 表示，其差异以百分点（pp）表示；金额单位为元；人数为真实用户数。', "en": "Paired difference: for each seed, the arm's KPI minus the baseline's KPI on the same seed (common random numbers); mean over seeds with a Student t {pct}% confidence interval. <b>A difference whose CI contains 0 is not significant</b> (grey rows, verdict <i>n.s.</i>). <i>better/worse</i> say whether the significant difference goes the way the KPI is wanted to go. Relative: the difference as a share of the baseline mean. Rates are in % and their differences in percentage points (pp); money in yuan; counts in real users."},
    "report.t.day": {"zh": '第 {day} 天', "en": 'day {day}'},
    "report.t.horizon_note": {"zh": '金额为从第 1 天到该天的累计值；成员为当天存量；流失率为此前 30 天。差异为配对种子上的均值及 95% 置信区间，灰色为不显著。', "en": 'Money is cumulative from day 1 to that day; members the stock on that day; churn over the 30 days before it. Differences: mean over paired seeds with 95% CI; grey: not significant.'},
    "report.t.term": {"zh": '项', "en": 'term'},
    "report.t.effect": {"zh": '效应', "en": 'effect'},
    "report.t.ci": {"zh": '95% 置信区间', "en": '95% CI'},
    "report.t.share": {"zh": '占总差异', "en": 'share of the total'},
    "report.t.total": {"zh": '总差异（{arm} − {base}）', "en": 'total difference ({arm} − {base})'},
    "report.t.shapley": {"zh": 'Shapley 归因（合计等于总差异）', "en": 'Shapley attribution (adds up to the total)'},
    "report.t.main": {"zh": '主效应（在其他杠杆所有组合上的平均）', "en": "main effects (averaged over the other levers' settings)"},
    "report.t.interaction": {"zh": '重要的双向交互作用', "en": 'two-way interactions that matter'},
    "report.t.no_interaction": {"zh": '没有重要的交互作用（均不显著且小于总差异的 10%）。', "en": 'No interaction matters (none significant or at least 10% of the total).'},
    "report.t.factors": {"zh": '因子及其取值（{base} → {arm}）', "en": 'factors and their settings ({base} → {arm})'},
    "report.t.attr_note": {"zh": '每个种子都运行全部 2^{k} = {cells} 个组合（共同随机数），因此每个种子给出每个效应的一个估计；置信区间为种子上的 t 区间。Shapley 归因把总差异分给各因子（对切换顺序平均），合计恰好等于总差异。', "en": 'Every seed runs all 2^{k} = {cells} cells (common random numbers), so each seed gives one estimate of every effect; CIs are t intervals over seeds. Shapley attribution splits the total difference among the factors (averaged over the order in which they are switched); the shares add up exactly to the total.'},
    "report.t.world_n": {"zh": '世界数', "en": 'worlds'},
    "report.t.ahead": {"zh": '{arm} 领先', "en": '{arm} ahead'},
    "report.t.sig_ahead": {"zh": '显著领先', "en": 'significantly ahead'},
    "report.t.sig_behind": {"zh": '显著落后', "en": 'significantly behind'},
    "report.t.median": {"zh": '差异中位数', "en": 'median difference'},
    "report.t.range": {"zh": '10%–90% 世界', "en": '10-90% of worlds'},
    "report.t.overall": {"zh": '全部', "en": 'all'},
    "report.t.stratum": {"zh": '分层', "en": 'stratum'},
    "report.t.param": {"zh": '假设参数', "en": 'assumption'},
    "report.t.rho": {"zh": '与差异的秩相关', "en": 'rank correlation with the difference'},
    "report.t.box_dim": {"zh": '{name}：预设值的 ×{lo:.2f} 至 ×{hi:.2f}', "en": '{name}: x{lo:.2f} to x{hi:.2f} of its preset value'},
    "report.t.world_note": {"zh": '每个世界用拉丁超立方抽样，把 {n} 个来源为“假设”的参数设在其预设值的 1/{band:g} 到 {band:g} 倍之间（对数均匀，截断到声明的取值范围）；声明范围大多只是有效性界限（如 0–1e9 元），所以用预设值附近的带宽。两个方案在每个世界中使用相同的种子。', "en": 'Each world is a Latin-hypercube draw that sets {n} parameters whose source is an assumption between 1/{band:g} and {band:g} x their preset value (log-uniform, clipped to the declared range); declared ranges are mostly validity bounds (e.g. 0-1e9 yuan), hence a band around the preset value. Both arms run on the same seeds in every world.'},
    "report.t.prim_note": {"zh": '情景发现（PRIM，参考 EMA workbench）：在假设空间中寻找结论反转的世界集中的区域。', "en": 'Scenario discovery (PRIM, as in the EMA workbench): the region of the assumption space where the worlds that flip the verdict concentrate.'},
    "report.t.point": {"zh": '设置', "en": 'setting'},
    "report.t.role": {"zh": '角色', "en": 'role'},
    "report.t.on_front": {"zh": '前沿', "en": 'on front'},
    "report.t.feasible": {"zh": '预算内', "en": 'within budget'},
    "report.t.run_it": {"zh": '运行命令', "en": 'run it'},
    "report.t.pareto_note": {"zh": '每个点都在相同的（市场 × 种子）上运行，与基线配对。前沿上的点：没有其他预算内的点在两个目标上都不差且至少一个更好。每个前沿点的预设文件在 presets/ 中。', "en": "Every point ran on the same (market x seed) runs, paired with the baseline. On the front: no other point within budget is at least as good on both objectives and better on one. Each front point's preset file is in presets/."},
    "report.role.baseline": {"zh": '基线', "en": 'baseline'},
    "report.role.challenger": {"zh": '对照方案', "en": 'challenger'},
    "report.role.trial": {"zh": '试验', "en": 'trial'},
    "report.yes": {"zh": '是', "en": 'yes'},
    "report.no": {"zh": '否', "en": 'no'},
    "report.s.sweep_dir": {"zh": '实验目录', "en": 'sweep dir'},
    "report.s.command": {"zh": '命令', "en": 'command'},
    "report.s.arms": {"zh": '方案', "en": 'arms'},
    "report.s.arms_text": {"zh": '（覆盖项 {keys}；基线 <b>{base}</b>）', "en": ' (override <code>{keys}</code>; baseline <b>{base}</b>)'},
    "report.s.strata": {"zh": '分层', "en": 'strata'},
    "report.s.one": {"zh": '无（一个）', "en": 'none (one)'},
    "report.s.markets": {"zh": '市场', "en": 'market(s)'},
    "report.s.seeds": {"zh": '种子', "en": 'seeds'},
    "report.s.size": {"zh": '规模', "en": 'size'},
    "report.s.size_text": {"zh": '{n} 个模拟用户（×{scale}），{days} 天', "en": '{n} simulated users (x{scale}), {days} days'},
    "report.s.runs": {"zh": '运行', "en": 'runs'},
    "report.s.finished": {"zh": '{n} 次完成', "en": '{n} finished'},
    "report.s.ignored": {"zh": '；<b>忽略 {n} 个未完成的运行目录</b>（无 summary.json）', "en": '; <b>{n} unfinished run dir(s) ignored</b> (no summary.json)'},
    "report.s.code": {"zh": '代码版本', "en": 'code version'},
    "report.s.differ": {"zh": '方案之间不同的参数', "en": 'parameters that differ between arms'},
    "report.s.none": {"zh": '无', "en": 'none'},
    "report.s.codes": {"zh": '<b>{n} 个代码版本（结果可能不可比）：</b>', "en": '<b>{n} code versions (results may not be comparable):</b> '},
    "report.s.uncommitted": {"zh": '（有未提交的修改）', "en": ' (uncommitted changes)'},
    "report.s.ignored_dirs": {"zh": '被忽略的运行目录', "en": 'ignored run dirs'},
    "report.s.full_config": {"zh": '方案 {arm} 的完整配置（已校验，记录于 summary.json）', "en": 'full config of arm {arm} (validated, as recorded in summary.json)'},
    "report.s.kind": {"zh": '研究类型', "en": 'study kind'},
    "report.s.points": {"zh": '设计点', "en": 'design points'},
    "report.r.nothing": {"zh": '没有可比较的内容：只有一个方案，或没有两个方案共同运行的种子。', "en": 'There is nothing to compare: the sweep has one arm, or no seed was run by both arms.'},
    "report.r.pairs": {"zh": '{n} 个配对种子', "en": '{n} paired seed(s)'},
    "report.r.pairs_of": {"zh": '{n} 个配对种子（共 {total} 个）', "en": '{n} paired seed(s) of {total}'},
    "report.r.few": {"zh": '{arm} 对比 {base}{where}，{pairs}：少于 2 个配对种子无法计算置信区间；请增加种子。', "en": '{arm} vs {base}{where}, {pairs}: with fewer than 2 paired seeds no confidence interval can be computed; run more seeds.'},
    "report.r.none_sig": {"zh": '{arm} 对比 {base}{where}，{pairs}：没有显著差异。', "en": '{arm} vs {base}{where}, {pairs}: no difference is significant.'},
    "report.r.headline": {"zh": '{arm} 对比 {base}{where}，{pairs}：在比较的 {total} 个指标中，{arm} 有 {better} 个显著更好、{worse} 个显著更差{other}。', "en": '{arm} vs {base}{where}, {pairs}: {arm} does significantly better on {better} and worse on {worse} of the {total} KPIs compared{other}.'},
    "report.r.other": {"zh": '；另有 {n} 个显著差异', "en": '; {n} other significant difference(s)'},
    "report.r.finding": {"zh": '{b} → {a}，{diff}（95% 置信区间 {lo} 至 {hi}{rel}）', "en": '{b} → {a}, {diff} (95% CI {lo} to {hi}{rel})'},
    "report.r.ns": {"zh": '不显著（95% 置信区间包含 0）：{list}。', "en": 'Not significant (the 95% CI contains 0): {list}.'},
    "report.r.over_head": {"zh": '{arm} 对比 {base}，{n} 个{noun}（{list}），每个 {pairs}：', "en": '{arm} vs {base} in {n} {noun} ({list}), {pairs} each:'},
    "report.r.consistent": {"zh": '{k}/{n} 个指标在每个{noun}都朝同一方向显著不同。', "en": ' {k} of {n} KPIs differ significantly the same way in every {noun}.'},
    "report.r.in_all": {"zh": '在全部 {n} 个{noun}', "en": 'in all {n} {noun}'},
    "report.r.in": {"zh": '在 {list}', "en": 'in {list}'},
    "report.r.per_stratum": {"zh": '各分层的解读（均值、差异及 95% 置信区间）', "en": 'reading per stratum (means, differences and 95% CIs)'},
    "report.noun1.market": {"zh": '市场', "en": 'market'},
    "report.noun1.strata": {"zh": '分层', "en": 'stratum'},
    "report.f.caption.forest": {"zh": '主要指标的配对差异（方案减基线，占基线均值的 %）及 95% 置信区间；灰色：不显著。', "en": 'Paired differences of the headline KPIs (arm minus baseline, % of the baseline mean) with 95% CIs; grey: not significant.'},
    "report.f.caption.timeseries": {"zh": '指标时间序列：种子均值，阴影为 5%–95% 种子范围。', "en": 'KPI time series: mean over seeds, band 5-95% of seeds.'},
    "report.f.caption.retention": {"zh": '按入群月份的留存：入群 m 个月后仍在私域中的比例。', "en": 'Retention by cohort: share of a cohort still in the private domain m months after joining.'},
    "report.f.caption.funnel": {"zh": '获客漏斗：门店员工添加的购买者、转化的推荐，以及私域存量。', "en": "Acquisition funnel: store buyers added by staff, recommendations converted, and the private domain's stock."},
    "report.f.caption.horizon": {"zh": '累计毛利的配对差异（方案减基线）随时间变化：种子均值及 5%–95% 范围；竖线为反超日。', "en": 'Paired difference of cumulative gross profit (arm minus baseline) over time: mean over seeds, band 5-95%; vertical line: the crossing day.'},
    "report.f.caption.attribution": {"zh": '总差异的 Shapley 归因及 95% 置信区间（瀑布图：从基线到对照方案）。', "en": 'Shapley attribution of the total difference with 95% CIs (waterfall from the baseline to the challenger).'},
    "report.f.caption.worlds": {"zh": '各合理世界中的差异（对照方案减基线）及 95% 置信区间，按差异排序。', "en": 'The difference (challenger minus baseline) in each plausible world with its 95% CI, sorted.'},
    "report.f.caption.drivers": {"zh": '假设参数与差异的秩相关（结论最依赖的假设）。', "en": 'Rank correlation of each assumption with the difference (the assumptions the verdict leans on).'},
    "report.f.caption.pareto": {"zh": '试验的两个目标值；前沿点相连，基线与对照方案单独标出；★为推荐点。', "en": "The trials' two objectives; front points joined, the baseline and the challenger marked; ★ the recommended point."},
    "report.f.members": {"zh": '私域成员', "en": 'members in the private domain'},
    "report.f.customers": {"zh": '成员中的客户', "en": 'customers among members'},
    "report.f.churn": {"zh": '流失率，每 30 天占成员 %', "en": 'churn, % of members per 30 days'},
    "report.f.nps": {"zh": '成员净推荐值', "en": 'NPS of members'},
    "report.f.cum_revenue": {"zh": '累计收入（元）', "en": 'cumulative revenue (yuan)'},
    "report.f.cum_cost": {"zh": '累计成本（元）', "en": 'cumulative cost (yuan)'},
    "report.f.day": {"zh": '天', "en": 'day'},
    "report.f.ts_title": {"zh": '{name}{where}：种子均值，阴影为 {lo}–{hi}% 种子', "en": '{name}{where}: mean over seeds, band {lo}-{hi}% of seeds'},
    "report.f.forest_x": {"zh": '差异，占基线均值的 %（超过 100% 为对数刻度）', "en": 'difference, % of the baseline mean (log scale beyond 100%)'},
    "report.f.forest_title": {"zh": '配对差异及 95% 置信区间（绿色更好，红色更差，灰色不显著：置信区间包含 0）', "en": 'paired differences with 95% CIs (green better, red worse, grey not significant: the CI contains 0)'},
    "report.f.paired": {"zh": '{n} 个配对种子', "en": '{n} paired seeds'},
    "report.f.initial": {"zh": '初始成员', "en": 'initial members'},
    "report.f.joined1": {"zh": '第 {m} 月入群', "en": 'joined in month {m}'},
    "report.f.joined": {"zh": '第 {a}–{b} 月入群', "en": 'joined in months {a}-{b}'},
    "report.f.months": {"zh": '入群后月数', "en": 'months since joining'},
    "report.f.still": {"zh": '仍为成员，%', "en": 'still members, %'},
    "report.f.ret_title": {"zh": '按入群月份的留存{where}（种子均值，阴影 {lo}–{hi}%）', "en": 'retention by cohort{where} (mean over seeds, band {lo}-{hi}%)'},
    "report.f.stores": {"zh": '门店', "en": 'stores'},
    "report.f.in_store": {"zh": '店内品牌购买者', "en": 'in-store brand buyers'},
    "report.f.added_staff": {"zh": '店员添加', "en": 'added by store staff'},
    "report.f.wom": {"zh": '口碑', "en": 'word of mouth'},
    "report.f.recs": {"zh": '发出的推荐', "en": 'recommendations made'},
    "report.f.reg_leads": {"zh": '登记为线索', "en": 'registered as leads'},
    "report.f.lead_funnel": {"zh": '线索漏斗（推荐、活动嘉宾）', "en": 'lead funnel (referrals, event guests)'},
    "report.f.leads": {"zh": '登记线索', "en": 'leads registered'},
    "report.f.trials": {"zh": '试验', "en": 'trials'},
    "report.f.bought": {"zh": '购买', "en": 'bought'},
    "report.f.domain": {"zh": '私域', "en": 'private domain'},
    "report.f.members_start": {"zh": '期初成员', "en": 'members at start'},
    "report.f.members_ever": {"zh": '曾入私域', "en": 'ever members'},
    "report.f.members_end": {"zh": '期末成员', "en": 'members at end'},
    "report.f.customers_end": {"zh": '期末客户', "en": 'customers at end'},
    "report.f.run_total": {"zh": '{title}（全程合计）', "en": '{title} (run total)'},
    "report.f.funnel_title": {"zh": '获客漏斗{where}（用户数，种子均值；误差线：1 个标准差；标签：占上一阶段比例）', "en": 'acquisition funnel{where} (users, mean over seeds; whiskers: 1 sd; labels: share of the stage above)'},
    "report.f.horizon_title": {"zh": '{kpi}差异：{arm} − {base}', "en": '{kpi} difference: {arm} − {base}'},
    "report.f.cross": {"zh": '反超日：第 {day} 天', "en": 'crossing: day {day}'},
    "report.f.attr_title": {"zh": '{kpi}差异归因{where}', "en": '{kpi} difference attributed{where}'},
    "report.f.total": {"zh": '总差异', "en": 'total'},
    "report.f.worlds_title": {"zh": '{kpi}：各世界中 {arm} − {base}', "en": '{kpi}: {arm} − {base} in each world'},
    "report.f.world_rank": {"zh": '世界（按差异排序）', "en": 'world (sorted by difference)'},
    "report.f.drivers_x": {"zh": '秩相关', "en": 'rank correlation'},
    "report.f.pareto_title": {"zh": '帕累托前沿：{o1} 与 {o2}', "en": 'Pareto front: {o1} vs {o2}'},
    "report.f.front": {"zh": '前沿', "en": 'front'},
    "report.f.recommended": {"zh": '推荐', "en": 'recommended'},
    "report.pdf.summary_only": {"zh": '未找到 chromium：本 PDF 只含执行摘要和图表（完整报告见 report.html；安装 chromium 可得到完整 PDF）。', "en": 'chromium not found: this PDF holds the executive summary and the figures only (full report: report.html; install chromium for the full PDF).'},
    # (end of report keys)
    # --- dash: the dashboard
}


def tr(key: str, lang: str = DEFAULT_LANG, **fmt: object) -> str:
    """The text of ``key`` in ``lang`` (``zh`` or ``en``), formatted with ``fmt``."""
    if lang not in LANGS:
        raise ValueError(f"lang={lang!r}: allowed: {', '.join(LANGS)}")
    try:
        text = TEXT[key][lang]
    except KeyError:
        raise KeyError(f"no translation for {key!r}") from None
    return text.format(**fmt) if fmt else text


def money(yuan: float, lang: str = DEFAULT_LANG, digits: int = 3) -> str:
    """Yuan as strategists write it: ``1,234万`` / ``1.23亿`` (zh), ``12.3M`` / ``1.23B`` (en).

    ``digits`` significant digits for the scaled forms; amounts under 10,000 (zh) or 1,000
    (en) are written in full with thousands separators. NaN gives ``n/a`` / ``不适用``.
    """
    if yuan is None or (isinstance(yuan, float) and math.isnan(yuan)):
        return "不适用" if lang == "zh" else "n/a"
    sign = "-" if yuan < 0 else ""
    a = abs(float(yuan))
    if lang == "zh":
        for unit, size in (("万亿", 1e12), ("亿", 1e8), ("万", 1e4)):
            if a >= size:
                return f"{sign}{_sig(a / size, digits)}{unit}"
        return f"{sign}{a:,.0f}"
    if lang != "en":
        raise ValueError(f"lang={lang!r}: allowed: {', '.join(LANGS)}")
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if a >= size:
            return f"{sign}{_sig(a / size, digits)}{unit}"
    return f"{sign}{a:,.0f}"


def _sig(x: float, digits: int) -> str:
    """``x`` (>= 1) to ``digits`` significant digits, with thousands separators, no trailing zeros."""
    whole = len(str(int(x)))
    decimals = max(0, digits - whole)
    text = f"{x:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text

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
    # --- fig: figure titles and axis labels
    # --- report: study reports
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

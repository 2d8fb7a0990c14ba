"""The KOC program: find, train and reward key opinion consumers (DOMAIN.md; seed 004).

Every ``top_up_every_days`` days (and on day 1) the brand tops its program up to ``share`` of
members. Selection ``application``: members apply in proportion to their need for recognition
and their satisfaction (seed 004: survey and application); ``reach``: the members with the
most contacts (degree x sociability). The program publishes its members in the ``koc``
column; what trained KOCs do is read from it by the others (:mod:`.shared`): they refer more
and their referrals register more often (Zeekr: 165 KOC-referred orders in 8 days), answer
questions in groups (added service capacity: Zeekr volunteers, NIO's 300 experts) and post
content that lifts their group's activity. Status (titles, certificates, early access) raises
their satisfaction; rewards cost ``reward_per_month`` each. KOCs churn at ``churn_mult`` x.
"""

from __future__ import annotations

import numpy as np

from sim.core.mechanisms.base import MONEY, SIGNAL, STOCK, Column, Mechanism, Result
from sim.core.mechanisms.shared import koc_active
from sim.core.population import segment_values


class KocProgram(Mechanism):
    name = "koc"
    doc = "the KOC program tops up, rewards and recognises its KOCs"
    reads = ("strategy.koc_program", "mechanisms.koc", "market.segments")
    columns = (Column("koc", np.bool_, False, "in the KOC program"),)
    results = (
        Result("n_kocs", "users", "members in the KOC program", STOCK),
        Result("kocs_rewarded", "users", "KOCs rewarded today (program members after the "
               "day's top-up)", SIGNAL),
        Result("new_cost_koc", "yuan", "KOC rewards", MONEY, 0.0, total="cost_koc"),
    )

    def __init__(self, model):
        super().__init__(model)
        self.p = self.cfg.strategy.koc_program
        self.enabled = koc_active(self.cfg)
        self.recognition = segment_values(self.cfg.market.segments.profiles(),
                                          "recognition_need", np.float32)
        self.degree = None

    def report(self, day: int, members: np.ndarray) -> dict[str, float]:
        return {"n_kocs": int(np.count_nonzero(self.users.koc[members]))} if self.enabled else {}

    def step(self, day: int) -> None:
        if not self.enabled:
            return
        u, p, today = self.users, self.p, self.model.today
        members = self.model.members()
        if day == 1 or day % p.top_up_every_days == 0:
            self._top_up(members, day)
        kocs = members[u.koc[members]]
        if len(kocs) == 0:
            return
        sat = u.satisfaction[kocs]
        gain = p.recognition_gain / 30.0 * self.recognition[u.segment[kocs]]
        u.satisfaction[kocs] = np.clip(sat + gain * (1 - sat), 0.0, 1.0)
        today.kocs_rewarded = len(kocs)
        today.new_cost_koc += len(kocs) * p.reward_per_month / 30.0

    def _top_up(self, members: np.ndarray, day: int) -> None:
        u, p = self.users, self.p
        target = int(round(p.share * len(members)))
        have = int(np.count_nonzero(u.koc[members]))
        need = target - have
        cand = members[~u.koc[members]]
        if need <= 0 or len(cand) == 0:
            return
        if p.selection == "reach":
            if self.degree is None:
                self.degree = self.model.graph.degree().astype(np.float32)
            score = self.degree[cand] * u.sociability[cand]
        else:  # application: who applies depends on need for recognition and satisfaction
            noise = self.stream("apply").uniform(cand, day)
            score = self.recognition[u.segment[cand]] * u.satisfaction[cand] * noise
        need = min(need, len(cand))
        pick = cand[np.argpartition(-score, need - 1)[:need]]
        u.koc[pick] = True

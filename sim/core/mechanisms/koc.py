"""The KOC program: find, train and reward key opinion consumers (DOMAIN.md; seed 004).

Every 30 days (and on day 1) the brand tops its program up to ``share`` of members.
Selection ``application``: members apply in proportion to their need for recognition and
their satisfaction (seed 004: survey and application); ``reach``: the members with the most
contacts (degree x sociability). Trained KOCs (``training`` in 0-1) refer more and their
referrals register more often (Zeekr: 165 KOC-referred orders in 8 days), answer questions
in groups (added service capacity: Zeekr volunteers, NIO's 300 experts) and post content
that lifts their group's activity. Status (titles, certificates, early access) raises their
satisfaction; rewards cost ``reward_per_month`` each. KOCs churn at ``churn_mult`` x.
"""

from __future__ import annotations

import numpy as np

from sim.core.mechanisms.base import Mechanism


class KocProgram(Mechanism):
    name = "koc"

    def __init__(self, model):
        super().__init__(model)
        self.p = self.cfg.strategy.koc_program
        self.enabled = self.p.enabled and self.p.share > 0
        self.recognition = self.segval("recognition_need")
        self.degree = None

    def step(self, day: int) -> None:
        if not self.enabled:
            return
        u, p, today = self.users, self.p, self.model.today
        members = self.model.members()
        if day == 1 or day % 30 == 0:
            self._top_up(members, day)
        kocs = members[u.koc[members]]
        if len(kocs) == 0:
            return
        sat = u.satisfaction[kocs]
        gain = p.recognition_gain / 30.0 * self.recognition[u.segment[kocs]]
        u.satisfaction[kocs] = np.clip(sat + gain * (1 - sat), 0.0, 1.0)
        today.cost += len(kocs) * p.reward_per_month / 30.0
        today.kocs = len(kocs)

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

    # ------------------------------------------------------------------ read by others

    def referral_mult(self, ids: np.ndarray) -> np.ndarray:
        """x referral rate of each user (1 outside the program)."""
        return np.where(self.users.koc[ids], 1.0 + self.p.referral_gain * self.p.training, 1.0)

    def conversion_mult(self, ids: np.ndarray) -> np.ndarray:
        return np.where(self.users.koc[ids], 1.0 + self.p.conversion_gain * self.p.training, 1.0)

    def answers_today(self, members: np.ndarray) -> float:
        if not self.enabled:
            return 0.0
        n = np.count_nonzero(self.users.koc[members])
        return n * self.p.answers_per_day * self.p.training

    def posts_per_group(self, members: np.ndarray, gid: np.ndarray, n_groups: int) -> np.ndarray:
        """Expected KOC posts today in each group."""
        if not self.enabled:
            return np.zeros(n_groups, dtype=np.float32)
        k = self.users.koc[members] & (gid >= 0)
        counts = np.bincount(gid[k], minlength=n_groups)
        return counts * (self.p.posts_per_week / 7.0) * self.p.training

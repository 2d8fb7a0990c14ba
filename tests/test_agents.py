"""Mesa users find the actors where they expect them: agent classes and handles."""

import mesa
import numpy as np

import sim
from sim.core.agents import KOC, Brand, CommunityGroup, StoreStaff, User
from sim.core.columns import KOC as KOC_SEGMENT


def build(*overrides):
    model = sim.SiyuModel(sim.load_config(["population.n_users=4000", "days=60", *overrides]))
    model.run()
    return model


def test_staff_and_brand_are_registered_mesa_agents():
    m = build()
    staff = m.agents_by_type[StoreStaff]
    a = m.config.strategy.acquisition
    n_stores = int(m.users.store.max()) + 1
    assert len(staff) == n_stores * a.staff_per_store
    assert len(m.agents_by_type[Brand]) == 1 and isinstance(m.brand, mesa.Agent)
    assert all(0.0 <= s.effort <= 1.0 for s in staff)
    assert sum(s.friends for s in staff) <= m.summary()["members_ever"]
    assert m.brand.revenue == m.series()["cum_revenue"][-1]
    assert User not in m.agents_by_type, "no user handles exist until asked for"


def test_user_handles_read_the_columns_live():
    m = build()
    i = int(m.members()[0])
    user = m.user(i)
    assert isinstance(user, mesa.Agent) and user.row == i
    assert user.state_name == "member"
    assert user.satisfaction == m.users.satisfaction[i].item()
    m.users.satisfaction[i] = 0.25
    assert user.satisfaction == np.float32(0.25).item(), "a handle reads the column, not a copy"
    nbrs = user.neighbors()
    assert len(nbrs) == m.graph.degree()[i] and np.all(m.graph.has_edge(np.full(len(nbrs), i), nbrs))
    koc_row = int(np.flatnonzero(m.users.segment == KOC_SEGMENT)[0])
    assert isinstance(m.user(koc_row), KOC)


def test_group_handles_report_activity_and_size():
    m = build("dealer=store_run", "days=200")
    in_group = m.users.group[m.members()]
    gid = int(in_group[in_group >= 0][0])
    group = m.group(gid)
    assert isinstance(group, CommunityGroup)
    assert group.size == int(np.count_nonzero(m.users.group[m.members()] == gid))
    assert 0.0 <= group.activity <= 1.0
    assert group.dead == (group.activity < m.config.groups.dead_below)

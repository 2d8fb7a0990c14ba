"""Network view: the private domain's structure, drawn on a sample.

The brand (official account) sits in the middle; around it a sample of stores, each with its
staff accounts and its community groups (size by members, green while alive, grey once dead);
around each group the sampled members who belong to it, around each staff account the
sampled members who are only its friends, around the brand the official account's followers.
Members are blue, churned users red crosses, KOCs gold stars; orange lines join a referred
user to whoever brought them ("old brings new").

The model always runs at full size; only the drawing is a sample: the first ``MAX_STORES``
stores, and at most ``MAX_USERS`` of their members and churned users, picked by a fixed
random priority per user, so the picture changes only as the model does. The layout is
fixed geometry (no force layout), so one redraw costs one scatter. Text (titles, legend,
counts) is HTML around the image (``sim.i18n``).
"""

from __future__ import annotations

import weakref

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from sim.core.columns import CHURNED, MEMBER
from sim.core.columns import KOC as KOC_SEGMENT
from sim.data.io import png_bytes

MAX_STORES = 6
MAX_USERS = 500

COLORS = {"store": "#343a40", "staff": "#1971c2", "group_live": "#2f9e44",
          "group_dead": "#adb5bd", "member": "#4dabf7", "churned": "#e03131", "koc": "#f59f00",
          "referral": "#fd7e14", "brand": "#7048e8", "structure": "#ced4da"}
OFFICIAL_ACCOUNT = 2  # sim.config.CHANNELS index

# per-model fixed random numbers (priority, angle, radius) per user
_JITTER: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _jitter(model) -> np.ndarray:
    j = _JITTER.get(model)
    if j is None or len(j) != model.users.n:
        j = np.random.default_rng(20240531).random((model.users.n, 3))
        _JITTER[model] = j
    return j


def _groups(model):
    """(slots per store, activity per group, dead threshold), or None without groups."""
    groups = getattr(model, "mechanisms", {}).get("groups")
    slots = getattr(groups, "slots", None)
    activity = getattr(groups, "activity", None)
    if groups is None or slots is None:
        return None
    dead_below = float(getattr(getattr(model.config, "groups", None), "dead_below", 0.0))
    return int(slots), None if activity is None else np.asarray(activity), dead_below


def structure(model, max_stores: int = MAX_STORES, max_users: int = MAX_USERS) -> dict:
    """Positions and attributes of the sampled structure of one :class:`sim.SiyuModel`."""
    u = model.users
    n_stores = model.n_stores
    shown = min(max_stores, n_stores)
    state = np.asarray(u.state)
    store = np.asarray(u.store)
    group = np.asarray(u.group)
    channel = np.asarray(u.channel)
    jit = _jitter(model)

    ang = np.pi / 2 + 2 * np.pi * np.arange(shown) / max(shown, 1)
    store_xy = np.column_stack([np.cos(ang), np.sin(ang)])
    staff_per_store = max(1, int(model.config.strategy.acquisition.staff_per_store))
    out: dict = {"n_stores": n_stores, "stores_shown": shown, "store_xy": store_xy}

    # staff accounts: side by side on the brand's side of their store
    k = np.arange(staff_per_store)
    offset = (k - (staff_per_store - 1) / 2) * min(0.14, 0.5 / staff_per_store)
    normal = np.column_stack([-np.sin(ang), np.cos(ang)])
    staff_xy = 0.7 * store_xy[:, None, :] + offset[None, :, None] * normal[:, None, :]
    out["staff_xy"] = staff_xy.reshape(-1, 2)

    # groups: outside their store, spread along the circle when a store has several
    members = state == MEMBER
    g_info = _groups(model)
    group_ids: list[int] = []
    group_xy = np.zeros((0, 2))
    group_live = np.zeros(0, bool)
    if g_info is not None and shown:
        slots, activity, dead_below = g_info
        xy, live = [], []
        for s in range(shown):
            gids = [g for g in range(s * slots, (s + 1) * slots) if (group == g).any()]
            for i, g in enumerate(gids):
                a = ang[s] + (i - (len(gids) - 1) / 2) * 0.42
                xy.append(1.45 * np.array([np.cos(a), np.sin(a)]))
                live.append(activity is None or float(activity[g]) >= dead_below)
                group_ids.append(g)
        if xy:
            group_xy, group_live = np.array(xy), np.array(live)
    row_of_group = {g: i for i, g in enumerate(group_ids)}

    # the sampled users: members and churned users of the shown stores, each placed in a
    # cloud: its group's, else its staff account's (friends only), else the brand's (followers)
    eligible = np.flatnonzero(((state == MEMBER) | (state == CHURNED)) & (store < shown))
    order = np.argsort(jit[eligible, 0], kind="stable")
    ids = np.sort(eligible[order[:max_users]])
    n_staff = len(out["staff_xy"])
    g = group[ids]
    cloud = np.array([row_of_group.get(int(gg), -1) for gg in g], dtype=np.int64)
    follower = (cloud < 0) & (channel[ids] == OFFICIAL_ACCOUNT)
    friend = (cloud < 0) & ~follower
    staff_idx = store[ids] * staff_per_store + ids % staff_per_store
    # cloud index: groups first, then staff accounts, then the brand
    cloud = np.where(friend, len(group_ids) + staff_idx, cloud)
    cloud = np.where(follower, len(group_ids) + n_staff, cloud)
    centres = np.vstack([group_xy.reshape(-1, 2), out["staff_xy"], np.zeros((1, 2))])
    counts = np.bincount(cloud, minlength=len(centres)).astype(float)
    top = max(counts.max(), 1.0) if len(counts) else 1.0
    radii = np.concatenate([0.06 + 0.24 * np.sqrt(counts[:len(group_ids)] / top),
                            0.03 + 0.12 * np.sqrt(counts[len(group_ids):-1] / top),
                            [0.08 + 0.2 * np.sqrt(counts[-1] / top)]])
    a = 2 * np.pi * jit[ids, 1]
    r = radii[cloud] * np.sqrt(jit[ids, 2])
    user_xy = centres[cloud] + np.column_stack([r * np.cos(a), r * np.sin(a)])
    koc = np.asarray(u.koc)[ids] if "koc" in u else np.zeros(len(ids), bool)
    koc_segment = np.asarray(u.segment)[ids] == KOC_SEGMENT
    out.update(ids=ids, user_xy=user_xy, state=state[ids], koc=koc | koc_segment,
               group_xy=group_xy, group_live=group_live,
               group_radius=radii[:len(group_ids)], group_store=np.array(
                   [gid // g_info[0] for gid in group_ids] if g_info else [], dtype=np.int64))

    # referral links inside the sample
    rec = np.asarray(u.recruited_by)[ids]
    pos = {int(i): p for i, p in zip(ids, user_xy, strict=True)}
    links = [(pos[int(r_)], p) for r_, p in zip(rec, user_xy, strict=True) if int(r_) in pos]
    out["referral_segments"] = np.array(links).reshape(-1, 2, 2)
    out["n_members"] = int(members.sum())
    out["n_churned"] = int((state == CHURNED).sum())
    out["shown_members"] = int((out["state"] == MEMBER).sum())
    out["shown_churned"] = int((out["state"] == CHURNED).sum())
    out["shown_kocs"] = int(out["koc"].sum())
    out["groups_live"] = int(group_live.sum())
    out["groups_dead"] = int((~group_live).sum())
    return out


def network_png(model, dpi: int = 80) -> tuple[bytes, dict]:
    """PNG of one model's sampled structure, and the structure's counts (for the caption)."""
    from matplotlib.patches import Circle

    st = structure(model)
    fig = Figure(figsize=(5.2, 5.2), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    shown = st["stores_shown"]
    per_store = len(st["staff_xy"]) // max(shown, 1)
    segs = [np.stack([np.zeros(2), p]) for p in st["store_xy"]]
    segs += [np.stack([st["store_xy"][i // max(per_store, 1)], p])
             for i, p in enumerate(st["staff_xy"])]
    segs += [np.stack([st["store_xy"][s], p])
             for s, p in zip(st["group_store"], st["group_xy"], strict=True)]
    if segs:
        ax.add_collection(LineCollection(segs, colors=COLORS["structure"], linewidths=1.0,
                                         zorder=1))
    for p, r, live in zip(st["group_xy"], st["group_radius"], st["group_live"], strict=True):
        color = COLORS["group_live" if live else "group_dead"]
        ax.add_patch(Circle(p, r + 0.03, facecolor=color, alpha=0.15, edgecolor=color,
                            linewidth=1.5, zorder=1))
    if len(st["referral_segments"]):
        ax.add_collection(LineCollection(st["referral_segments"], colors=COLORS["referral"],
                                         linewidths=0.6, alpha=0.35, zorder=2))
    xy, state, koc = st["user_xy"], st["state"], st["koc"]
    m = (state == MEMBER) & ~koc
    ax.scatter(xy[m, 0], xy[m, 1], s=9, c=COLORS["member"], linewidths=0, zorder=3)
    c = state == CHURNED
    ax.scatter(xy[c, 0], xy[c, 1], s=12, c=COLORS["churned"], marker="x", linewidths=0.9,
               zorder=3)
    k = (state == MEMBER) & koc
    ax.scatter(xy[k, 0], xy[k, 1], s=60, c=COLORS["koc"], marker="*", linewidths=0.3,
               edgecolors="#7a4b00", zorder=4)
    ax.scatter(st["staff_xy"][:, 0], st["staff_xy"][:, 1], s=50, c=COLORS["staff"], marker="^",
               zorder=5)
    ax.scatter(st["store_xy"][:, 0], st["store_xy"][:, 1], s=130, c=COLORS["store"], marker="s",
               zorder=5)
    ax.scatter([0], [0], s=220, c=COLORS["brand"], marker="H", zorder=5)
    ax.set_xlim(-1.85, 1.85)
    ax.set_ylim(-1.85, 1.85)
    ax.set_aspect("equal")
    counts = {k: v for k, v in st.items() if isinstance(v, int)}
    return png_bytes(fig), counts

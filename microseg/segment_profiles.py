"""Segment profiles and names: what sets each segment apart from the whole base,
and the playbook trait that decides its name and action.

Effect size of a feature in a segment = (segment mean - base mean) / base
standard deviation, on the transformed feature (log for money and counts), so
one monetary outlier cannot make a segment "high-value". Lift = segment mean /
base mean on the feature's own scale (EUR, days, shares).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FALLBACK_NAME = "Mainstream"
FALLBACK_ACTION = "Engagement: regular newsletter and recommendations"
FALLBACK_CHANNEL = "email"
TOP_FEATURES = 3
NAME_TRAITS = 3


def profile_segments(raw: pd.DataFrame, transformed: pd.DataFrame, segment_ids: np.ndarray) -> pd.DataFrame:
    """One row per segment x feature: customer_count, customer_share, mean and
    median (feature's own scale), the base mean and median, lift, effect_size
    (transformed scale) and distinction_rank (1 = largest |effect_size|).

    ``raw`` and ``transformed`` hold the same columns and rows (the clustering
    features before and after :func:`microseg.segmentation.transform_features`).
    """
    segment_ids = np.asarray(segment_ids)
    base_sd = transformed.std(ddof=0).replace(0.0, 1.0)
    base_transformed_mean = transformed.mean()
    # the base statistics once per feature and each segment's rows taken once: the same Series methods on
    # the same values, so the same figures to the bit, where every (segment, feature) recomputed the base's
    # median and mean (1,000,000 persons, 17 segments, 30 features: 6.9 -> 2.7 s a call; customer_segments
    # and segment_profiles each make one)
    base_means = {feature: float(raw[feature].mean()) for feature in raw.columns}
    base_medians = {feature: float(raw[feature].median()) for feature in raw.columns}
    rows = []
    for segment_id in np.unique(segment_ids):
        mask = segment_ids == segment_id
        effect = (transformed[mask].mean() - base_transformed_mean) / base_sd
        members = raw[mask]
        for feature in raw.columns:
            mean = float(members[feature].mean())
            base_mean = base_means[feature]
            rows.append(
                {
                    "segment_id": int(segment_id),
                    "customer_count": int(mask.sum()),
                    "customer_share": float(mask.mean()),
                    "feature": feature,
                    "mean_value": mean,
                    "median_value": float(members[feature].median()),
                    "base_mean": base_mean,
                    "base_median": base_medians[feature],
                    "lift": mean / base_mean if base_mean else np.nan,
                    "effect_size": float(effect[feature]),
                }
            )
    profile = pd.DataFrame(rows)
    profile["distinction_rank"] = (
        profile.assign(a=profile["effect_size"].abs())
        .groupby("segment_id")["a"].rank(method="first", ascending=False).astype(int)
    )
    return profile


def name_segments(profile: pd.DataFrame, playbook: pd.DataFrame) -> pd.DataFrame:
    """One row per segment: segment_name, traits (comma-separated trait ids that
    fire, strongest first), top_features (the TOP_FEATURES most distinguishing
    features with their effect sizes), recommended_action and
    recommended_channel (the firing trait with the lowest priority number).

    Names that come out identical are told apart by their segment id.
    """
    effects = profile.pivot(index="segment_id", columns="feature", values="effect_size")
    rows = []
    for segment_id, effect in effects.iterrows():
        fired = []
        for trait in playbook.itertuples(index=False):
            if trait.feature not in effect:
                continue
            value = float(effect[trait.feature])
            strength = value if trait.direction == "high" else -value
            if strength >= trait.min_effect:
                fired.append((strength, trait))
        by_strength = [t for _, t in sorted(fired, key=lambda x: -x[0])]
        name_traits = sorted(by_strength[:NAME_TRAITS], key=lambda t: t.priority)
        name = ", ".join(t.label for t in name_traits) if name_traits else FALLBACK_NAME
        lead = min(by_strength, key=lambda t: t.priority) if by_strength else None
        top = profile[(profile["segment_id"] == segment_id) & (profile["distinction_rank"] <= TOP_FEATURES)]
        rows.append(
            {
                "segment_id": int(segment_id),
                "segment_name": name[:1].upper() + name[1:],
                "traits": ", ".join(t.trait for t in by_strength),
                "top_features": ", ".join(
                    f"{r.feature} ({r.effect_size:+.1f} sd)" for r in top.sort_values("distinction_rank").itertuples()
                ),
                "recommended_action": lead.action if lead else FALLBACK_ACTION,
                "recommended_channel": lead.channel if lead else FALLBACK_CHANNEL,
            }
        )
    names = pd.DataFrame(rows)
    duplicated = names["segment_name"].duplicated(keep=False)
    names.loc[duplicated, "segment_name"] = (
        names.loc[duplicated, "segment_name"] + " #" + names.loc[duplicated, "segment_id"].astype(str)
    )
    return names

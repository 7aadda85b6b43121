"""Planted customer segments and their behavioural parameters.

Each persona differs in its purchase process (BG/NBD-like: a per-person Poisson
rate drawn from a persona gamma, and a churn probability after each purchase),
basket, prices, discounts, returns, category / channel / device mix, clock
(hour of day, weekend preference), email engagement, browsing, demographics and
third-party interests. ``persona_arrays`` stacks everything into numpy arrays
indexed by persona number so the simulation can look parameters up per person.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache

import numpy as np


@dataclass(frozen=True)
class Persona:
    name: str
    share: float
    # purchase process
    rate_mean: float  # purchases per year while alive (gamma mean)
    rate_shape: float  # gamma shape (lower = more spread)
    dropout_mean: float  # churn probability after each purchase (beta mean)
    tenure_years: tuple[float, float]  # customer since (years before end), uniform
    # basket
    lines_mean: float  # mean order lines per order (1 + Poisson, capped at 5)
    price_mult: float  # multiplier on category prices
    discount_prob: float  # share of lines with a discount
    return_rate: float  # share of sale lines returned
    category_mix: tuple[float, ...]  # over config.CATEGORIES
    channel_mix: tuple[float, ...]  # web, app, store, marketplace
    device_mix: tuple[float, ...]  # mobile, desktop, tablet
    app_share: float  # mobile/tablet devices that use the app
    # clock
    hour_mu: float  # peak hour (Berlin local)
    hour_sd: float
    weekend_shift: float  # >0: move weekday activity to weekends; <0: the reverse
    # engagement
    consent_prob: float
    open_rate: float
    click_rate: float  # given open
    sessions_per_year: float  # browse sessions while alive
    browse_events: float  # mean page/product views per session
    product_view_share: float
    cart_prob: float  # browse session adds to cart
    checkout_prob: float  # ... and starts a checkout (never completes)
    login_prob: float
    # demographics / enrichment
    age_range: tuple[int, int]
    city_kind_weight: tuple[float, float, float]  # big, mid, small
    interests: tuple[float, ...]  # sustainability, outdoors, fashion, tech, home, deals
    income_probs: tuple[float, ...]  # <25k, 25-50k, 50-75k, 75-100k, 100k+


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "high_value_frequent",
        0.08,
        rate_mean=9.0,
        rate_shape=6.0,
        dropout_mean=0.006,
        tenure_years=(0.8, 3.5),
        lines_mean=2.6,
        price_mult=2.3,
        discount_prob=0.05,
        return_rate=0.06,
        category_mix=(0.30, 0.25, 0.20, 0.08, 0.03, 0.03, 0.03, 0.04, 0.02, 0.02),
        channel_mix=(0.45, 0.30, 0.20, 0.05),
        device_mix=(0.35, 0.50, 0.15),
        app_share=0.5,
        hour_mu=12.5,
        hour_sd=2.5,
        weekend_shift=-0.6,
        consent_prob=0.6,
        open_rate=0.35,
        click_rate=0.25,
        sessions_per_year=3.4,
        browse_events=2.0,
        product_view_share=0.55,
        cart_prob=0.18,
        checkout_prob=0.4,
        login_prob=0.75,
        age_range=(35, 62),
        city_kind_weight=(1.6, 1.0, 0.7),
        interests=(0.30, 0.30, 0.60, 0.75, 0.60, 0.12),
        income_probs=(0.03, 0.08, 0.19, 0.25, 0.45),
    ),
    Persona(
        "eco_urban_millennial",
        0.14,
        rate_mean=4.0,
        rate_shape=5.0,
        dropout_mean=0.02,
        tenure_years=(0.5, 3.0),
        lines_mean=2.0,
        price_mult=1.1,
        discount_prob=0.10,
        return_rate=0.05,
        category_mix=(0.03, 0.18, 0.13, 0.22, 0.03, 0.03, 0.04, 0.04, 0.02, 0.28),
        channel_mix=(0.30, 0.58, 0.07, 0.05),
        device_mix=(0.78, 0.12, 0.10),
        app_share=0.75,
        hour_mu=20.5,
        hour_sd=1.6,
        weekend_shift=0.05,
        consent_prob=0.7,
        open_rate=0.45,
        click_rate=0.30,
        sessions_per_year=5.4,
        browse_events=2.0,
        product_view_share=0.5,
        cart_prob=0.16,
        checkout_prob=0.35,
        login_prob=0.65,
        age_range=(25, 40),
        city_kind_weight=(3.5, 1.0, 0.25),
        interests=(0.85, 0.40, 0.60, 0.30, 0.50, 0.30),
        income_probs=(0.10, 0.30, 0.32, 0.18, 0.10),
    ),
    Persona(
        "weekend_outdoor",
        0.12,
        rate_mean=3.5,
        rate_shape=5.0,
        dropout_mean=0.025,
        tenure_years=(0.5, 3.0),
        lines_mean=1.9,
        price_mult=1.2,
        discount_prob=0.10,
        return_rate=0.05,
        category_mix=(0.06, 0.08, 0.04, 0.02, 0.42, 0.30, 0.03, 0.03, 0.01, 0.01),
        channel_mix=(0.40, 0.15, 0.35, 0.10),
        device_mix=(0.50, 0.38, 0.12),
        app_share=0.35,
        hour_mu=10.0,
        hour_sd=2.5,
        weekend_shift=0.8,
        consent_prob=0.55,
        open_rate=0.30,
        click_rate=0.20,
        sessions_per_year=2.7,
        browse_events=2.2,
        product_view_share=0.55,
        cart_prob=0.16,
        checkout_prob=0.35,
        login_prob=0.55,
        age_range=(25, 55),
        city_kind_weight=(0.6, 1.0, 3.0),
        interests=(0.45, 0.88, 0.30, 0.40, 0.30, 0.30),
        income_probs=(0.08, 0.25, 0.35, 0.20, 0.12),
    ),
    Persona(
        "bargain_hunter",
        0.16,
        rate_mean=5.0,
        rate_shape=4.0,
        dropout_mean=0.025,
        tenure_years=(0.5, 3.0),
        lines_mean=2.4,
        price_mult=0.65,
        discount_prob=0.70,
        return_rate=0.11,
        category_mix=(0.08, 0.15, 0.14, 0.08, 0.03, 0.04, 0.22, 0.06, 0.16, 0.04),
        channel_mix=(0.42, 0.18, 0.05, 0.35),
        device_mix=(0.50, 0.40, 0.10),
        app_share=0.35,
        hour_mu=13.0,
        hour_sd=4.0,
        weekend_shift=0.0,
        consent_prob=0.85,
        open_rate=0.55,
        click_rate=0.60,
        sessions_per_year=3.6,
        browse_events=2.2,
        product_view_share=0.5,
        cart_prob=0.25,
        checkout_prob=0.35,
        login_prob=0.6,
        age_range=(20, 65),
        city_kind_weight=(1.0, 1.2, 1.0),
        interests=(0.20, 0.30, 0.40, 0.30, 0.40, 0.88),
        income_probs=(0.30, 0.38, 0.20, 0.08, 0.04),
    ),
    Persona(
        "cart_abandoner",
        0.12,
        rate_mean=2.2,
        rate_shape=3.0,
        dropout_mean=0.06,
        tenure_years=(0.5, 3.0),
        lines_mean=1.4,
        price_mult=0.9,
        discount_prob=0.12,
        return_rate=0.07,
        category_mix=(0.22, 0.22, 0.14, 0.08, 0.06, 0.06, 0.04, 0.08, 0.06, 0.04),
        channel_mix=(0.62, 0.30, 0.04, 0.04),
        device_mix=(0.58, 0.32, 0.10),
        app_share=0.4,
        hour_mu=21.5,
        hour_sd=2.5,
        weekend_shift=0.0,
        consent_prob=0.5,
        open_rate=0.25,
        click_rate=0.20,
        sessions_per_year=8.4,
        browse_events=2.0,
        product_view_share=0.65,
        cart_prob=0.55,
        checkout_prob=0.55,
        login_prob=0.5,
        age_range=(18, 45),
        city_kind_weight=(1.3, 1.0, 0.8),
        interests=(0.30, 0.30, 0.50, 0.55, 0.40, 0.50),
        income_probs=(0.20, 0.35, 0.25, 0.12, 0.08),
    ),
    Persona(
        "lapsed_high_value",
        0.10,
        rate_mean=8.0,
        rate_shape=6.0,
        dropout_mean=0.08,
        tenure_years=(1.0, 2.5),
        lines_mean=2.5,
        price_mult=2.1,
        discount_prob=0.06,
        return_rate=0.06,
        category_mix=(0.28, 0.24, 0.20, 0.08, 0.04, 0.04, 0.03, 0.05, 0.02, 0.02),
        channel_mix=(0.45, 0.25, 0.25, 0.05),
        device_mix=(0.40, 0.45, 0.15),
        app_share=0.45,
        hour_mu=13.0,
        hour_sd=3.0,
        weekend_shift=-0.3,
        consent_prob=0.5,
        open_rate=0.06,
        click_rate=0.10,
        sessions_per_year=0.5,
        browse_events=1.5,
        product_view_share=0.4,
        cart_prob=0.04,
        checkout_prob=0.2,
        login_prob=0.4,
        age_range=(35, 65),
        city_kind_weight=(1.4, 1.0, 0.8),
        interests=(0.30, 0.30, 0.55, 0.65, 0.55, 0.20),
        income_probs=(0.04, 0.10, 0.21, 0.25, 0.40),
    ),
    Persona(
        "new_customer",
        0.10,
        rate_mean=4.0,
        rate_shape=3.0,
        dropout_mean=0.05,
        tenure_years=(0.0, 0.246),
        lines_mean=1.6,
        price_mult=1.0,
        discount_prob=0.25,
        return_rate=0.05,
        category_mix=(0.12, 0.16, 0.12, 0.10, 0.08, 0.08, 0.10, 0.10, 0.08, 0.06),
        channel_mix=(0.50, 0.38, 0.07, 0.05),
        device_mix=(0.60, 0.30, 0.10),
        app_share=0.5,
        hour_mu=16.0,
        hour_sd=4.0,
        weekend_shift=0.0,
        consent_prob=0.6,
        open_rate=0.55,
        click_rate=0.25,
        sessions_per_year=36.0,
        browse_events=2.5,
        product_view_share=0.5,
        cart_prob=0.12,
        checkout_prob=0.35,
        login_prob=0.6,
        age_range=(18, 60),
        city_kind_weight=(1.2, 1.0, 0.9),
        interests=(0.40, 0.40, 0.45, 0.45, 0.40, 0.40),
        income_probs=(0.15, 0.30, 0.30, 0.15, 0.10),
    ),
    Persona(
        "occasional_browser",
        0.18,
        rate_mean=1.8,
        rate_shape=3.0,
        dropout_mean=0.12,
        tenure_years=(0.5, 3.0),
        lines_mean=1.2,
        price_mult=0.9,
        discount_prob=0.15,
        return_rate=0.04,
        category_mix=(0.05, 0.07, 0.12, 0.05, 0.04, 0.04, 0.06, 0.36, 0.13, 0.08),
        channel_mix=(0.50, 0.10, 0.30, 0.10),
        device_mix=(0.35, 0.50, 0.15),
        app_share=0.2,
        hour_mu=19.0,
        hour_sd=4.0,
        weekend_shift=0.0,
        consent_prob=0.35,
        open_rate=0.05,
        click_rate=0.10,
        sessions_per_year=2.4,
        browse_events=1.8,
        product_view_share=0.35,
        cart_prob=0.03,
        checkout_prob=0.1,
        login_prob=0.2,
        age_range=(18, 78),
        city_kind_weight=(1.0, 1.0, 1.2),
        interests=(0.30, 0.30, 0.30, 0.35, 0.35, 0.35),
        income_probs=(0.20, 0.30, 0.25, 0.15, 0.10),
    ),
)

PERSONA_NAMES = tuple(p.name for p in PERSONAS)
HIGH_VALUE, ECO, OUTDOOR, BARGAIN, CART, LAPSED, NEW, BROWSER = range(len(PERSONAS))

#: lapsed_high_value churned this many days before the end (uniform)
LAPSED_CHURN_DAYS = (200, 700)
#: new_customer history order cap
NEW_CUSTOMER_MAX_ORDERS = 2
#: concentration of per-person Dirichlet / Beta noise around persona means
MIX_CONCENTRATION = 25.0
RATE_CONCENTRATION = 12.0


@cache
def persona_arrays() -> dict[str, np.ndarray]:
    """All persona parameters as arrays with the persona index as first axis."""
    out: dict[str, np.ndarray] = {}
    for f in fields(Persona):
        if f.name == "name":
            continue
        out[f.name] = np.array([getattr(p, f.name) for p in PERSONAS], dtype=float)
    for key in ("category_mix", "channel_mix", "device_mix", "income_probs", "city_kind_weight"):
        out[key] = out[key] / out[key].sum(axis=1, keepdims=True)
    out["share"] = out["share"] / out["share"].sum()
    return out

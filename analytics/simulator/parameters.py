"""Every fixed parameter of the synthetic Loopin platform, in one place (docs/simulator.md lists them).

The noise of each latent trait and therefore how separable the personas are is FIXED here. A change
to any value in this module changes what every model is measured against: it must be reported with
every model's figures before and after (docs/simulator.md, "Changing the simulator").
"""

from __future__ import annotations

from dataclasses import dataclass

# The version of the generative model; written to the ground truth so evaluations can tell runs apart.
MODEL_VERSION = "2.0"

CATEGORIES: tuple[str, ...] = ("music", "tech", "food", "sports", "art", "networking", "wellness", "comedy")

# Home cities of users and hosts, with their share of users (sums to 1).
CITIES: tuple[tuple[str, float], ...] = (
    ("Bengaluru", 0.24),
    ("Mumbai", 0.20),
    ("Delhi", 0.18),
    ("Hyderabad", 0.12),
    ("Pune", 0.11),
    ("Chennai", 0.09),
    ("Kolkata", 0.06),
)
COUNTRY = "IN"
CURRENCY = "INR"
HOME_CITY_SHARE = 0.9  # share of listing views in the user's home city (the rest: any city)


@dataclass(frozen=True)
class PersonaSpec:
    """One persona: the centre of each latent trait. Noise around the centre is fixed below."""

    name: str
    share: float  # share of users
    sessions_per_week: float  # median expected sessions per week (log-normal noise ACTIVITY_SIGMA)
    views_per_session: float  # mean listing views per session (Poisson)
    search_propensity: float  # probability a session contains a search
    request_propensity: float  # base probability of a join request after viewing a listing
    price_sensitivity: float  # 0 (ignores price) .. 1 (free or cheap only)
    preference_concentration: float  # Dirichlet concentration: low = a few favourite categories
    category_bias: tuple[float, ...]  # Dirichlet base weights over CATEGORIES (normalised)
    weekend_preference: float  # share of sessions on Saturday/Sunday (2/7 = no preference)
    peak_hour: float  # local hour of the day with most sessions
    hour_spread: float  # standard deviation (hours) around the peak hour
    show_up_propensity: float  # base probability of attending a confirmed seat
    review_propensity: float  # probability of reviewing an attended listing
    invite_propensity: float  # probability of inviting friends to a requested listing
    churn_hazard: float  # daily hazard of starting to fade (before tenure and frustration effects)
    mobile_share: float  # share of users on a phone (the rest on a desktop browser)
    trial_only_share: float  # share who sign up, look around once and never open the app again
    group_size: float  # mean seats per request (1 + Poisson(group_size - 1))


def _bias(**weights: float) -> tuple[float, ...]:
    values = tuple(weights.get(category, 1.0) for category in CATEGORIES)
    total = sum(values)
    return tuple(value / total for value in values)


PERSONAS: tuple[PersonaSpec, ...] = (
    PersonaSpec(
        name="social_explorer",
        share=0.20,
        sessions_per_week=2.6,
        views_per_session=2.4,
        search_propensity=0.35,
        request_propensity=0.10,
        price_sensitivity=0.40,
        preference_concentration=4.0,
        category_bias=_bias(music=1.5, networking=1.5, comedy=1.5, food=1.3),
        weekend_preference=0.36,
        peak_hour=20.0,
        hour_spread=2.0,
        show_up_propensity=0.70,
        review_propensity=0.12,
        invite_propensity=0.45,
        churn_hazard=0.006,
        mobile_share=0.92,
        trial_only_share=0.40,
        group_size=2.3,
    ),
    PersonaSpec(
        name="event_regular",
        share=0.18,
        sessions_per_week=2.2,
        views_per_session=1.4,
        search_propensity=0.20,
        request_propensity=0.18,
        price_sensitivity=0.30,
        preference_concentration=1.0,
        category_bias=_bias(sports=1.6, wellness=1.6, tech=1.3),
        weekend_preference=0.30,
        peak_hour=19.0,
        hour_spread=1.5,
        show_up_propensity=0.85,
        review_propensity=0.12,
        invite_propensity=0.08,
        churn_hazard=0.003,
        mobile_share=0.80,
        trial_only_share=0.30,
        group_size=1.1,
    ),
    PersonaSpec(
        name="passive_observer",
        share=0.30,
        sessions_per_week=1.3,
        views_per_session=1.8,
        search_propensity=0.30,
        request_propensity=0.025,
        price_sensitivity=0.50,
        preference_concentration=2.0,
        category_bias=_bias(),
        weekend_preference=0.30,
        peak_hour=22.0,
        hour_spread=1.8,
        show_up_propensity=0.50,
        review_propensity=0.04,
        invite_propensity=0.03,
        churn_hazard=0.011,
        mobile_share=0.88,
        trial_only_share=0.60,
        group_size=1.1,
    ),
    PersonaSpec(
        name="power_user",
        share=0.07,
        sessions_per_week=6.5,
        views_per_session=2.8,
        search_propensity=0.55,
        request_propensity=0.20,
        price_sensitivity=0.15,
        preference_concentration=3.0,
        category_bias=_bias(tech=1.4, networking=1.4, music=1.2),
        weekend_preference=0.30,
        peak_hour=13.0,
        hour_spread=3.5,
        show_up_propensity=0.80,
        review_propensity=0.25,
        invite_propensity=0.25,
        churn_hazard=0.0015,
        mobile_share=0.65,
        trial_only_share=0.15,
        group_size=1.4,
    ),
    PersonaSpec(
        name="deal_seeker",
        share=0.15,
        sessions_per_week=2.0,
        views_per_session=2.2,
        search_propensity=0.75,
        request_propensity=0.09,
        price_sensitivity=0.92,
        preference_concentration=2.0,
        category_bias=_bias(food=1.5, comedy=1.3, music=1.2),
        weekend_preference=0.33,
        peak_hour=21.0,
        hour_spread=2.0,
        show_up_propensity=0.55,
        review_propensity=0.08,
        invite_propensity=0.12,
        churn_hazard=0.008,
        mobile_share=0.90,
        trial_only_share=0.50,
        group_size=1.5,
    ),
    PersonaSpec(
        name="weekend_warrior",
        share=0.10,
        sessions_per_week=1.8,
        views_per_session=1.8,
        search_propensity=0.35,
        request_propensity=0.12,
        price_sensitivity=0.40,
        preference_concentration=2.0,
        category_bias=_bias(sports=1.6, food=1.4, art=1.3, music=1.2),
        weekend_preference=0.78,
        peak_hour=11.0,
        hour_spread=2.0,
        show_up_propensity=0.72,
        review_propensity=0.10,
        invite_propensity=0.22,
        churn_hazard=0.006,
        mobile_share=0.85,
        trial_only_share=0.45,
        group_size=2.0,
    ),
)
PERSONA_BY_NAME = {persona.name: persona for persona in PERSONAS}

# --- Fixed noise of the latent traits (persona separability) ----------------------------------------
ACTIVITY_SIGMA = 0.6  # sessions/week: median x exp(N(0, sigma))
VIEWS_SIGMA = 0.35  # views/session: mean x exp(N(0, sigma))
PROPENSITY_CONCENTRATION = 6.0  # probabilities: Beta with mean = centre, alpha+beta = this (sd ≈ 0.19 at 0.5)
PRICE_SENSITIVITY_CONCENTRATION = 6.0  # Beta concentration for price sensitivity
WEEKEND_CONCENTRATION = 10.0  # Beta concentration for the weekend share
PEAK_HOUR_SIGMA = 3.0  # hours: peak = centre + N(0, sigma)
HOUR_SPREAD_SIGMA = 0.2  # hour spread x exp(N(0, sigma))
CHURN_HAZARD_SIGMA = 0.5  # base hazard x exp(N(0, sigma))

# --- Sign-ups ------------------------------------------------------------------------------------------
SIGNUP_GROWTH = 3.0  # the last day of the window has 1 + this times the sign-ups of the first day
# Weekly seasonality of sign-ups and traffic, Monday..Sunday.
WEEKDAY_FACTOR: tuple[float, ...] = (0.92, 0.90, 0.94, 0.98, 1.06, 1.12, 1.08)
ANONYMOUS_BROWSE_SHARE = 0.55  # share of users with 1-2 anonymous sessions before signing up
ANONYMOUS_LEAD_DAYS = 3  # those sessions fall within this many days before the sign-up
# Visitors who never sign up: people who open a shared listing link or find the web site, look around
# for a session or two and leave (anonymous ids only; most of them on a phone's browser).
VISITORS_PER_USER = 0.6  # visitors arriving over the window, per user who signs up
VISITOR_EXTRA_SESSIONS = 0.6  # sessions per visitor = 1 + Poisson(this), within VISITOR_SPAN_DAYS
VISITOR_SPAN_DAYS = 10
VISITOR_MOBILE_WEB = 0.7  # share of visitors on a phone's browser (the rest on a desktop browser)
VISITOR_VIEWS_PER_SESSION = 1.6
VISITOR_LANDS_ON_LISTING = 0.6  # share of visitor sessions that open on a shared listing page
SIGNUP_METHODS: tuple[tuple[str, float], ...] = (("phone_otp", 0.72), ("google", 0.20), ("apple", 0.08))
OTP_FAILURE = 0.14  # probability that an OTP entry fails (then resend and retry; at most 3 tries)
LOGIN_SHARE = 0.06  # share of sessions that begin with a log-in (token expired), OTP flow included
LOGOUT_SHARE = 0.03
PROFILE_FIELDS = ("name", "photo", "bio", "interests", "city", "birthday", "instagram")
# A trial-only user's sign-up session is shallower: views and searches x TRIAL_ENGAGEMENT, and at most
# TRIAL_PROFILE_FIELDS profile fields (others complete 2-7). First-session engagement predicts retention.
TRIAL_ENGAGEMENT = 0.5
TRIAL_PROFILE_FIELDS = 3

# --- Activity over a user's life ------------------------------------------------------------------------
NOVELTY_BOOST = 0.6  # sessions x (0.7 + boost x exp(-tenure / NOVELTY_DAYS)) for new users
NOVELTY_DAYS = 10.0
TENURE_FLOOR = 0.7
EXPLORATION = 0.25  # share of listing views from a uniformly chosen category (browsing)

# --- Churn -------------------------------------------------------------------------------------------------
# Each day an active user starts to fade with probability
#   h = min(HAZARD_CAP, base x (1 + EARLY_CHURN x exp(-tenure_days / EARLY_CHURN_DAYS))
#                  x exp(FRUSTRATION_WEIGHT x F))
# A fading user's sessions fall to
#   FADE_FLOOR + (FADE_MULTIPLIER_START - FADE_FLOOR) x exp(-days_fading / FADE_DAYS)
# of normal, their join requests to 60%, their show-up odds by SHOW_FADING; each day a fading user leaves for
# good (churns: never opens the app again) with probability DEPARTURE.
HAZARD_CAP = 0.5
EARLY_CHURN = 4.0
EARLY_CHURN_DAYS = 14.0
FRUSTRATION_WEIGHT = 0.6
FRUSTRATION_DECAY = 0.97  # F is multiplied by this every day
FADE_FLOOR = 0.08
FADE_DAYS = 5.0
FADE_MULTIPLIER_START = 0.8
FADING_ENGAGEMENT = 0.6  # a fading user's sessions are shallower too: views and searches x this
DEPARTURE = 0.10
CHURN_HORIZON_DAYS = 30
# What a bad (or good) experience does to frustration F.
FRUSTRATION: dict[str, float] = {
    "request_declined": 0.6,
    "payment_failed": 0.35,
    "payment_abandoned": 0.5,
    "listing_cancelled": 0.6,
    "poor_experience": 1.0,
    "mediocre_experience": 0.3,
    "great_experience": -0.6,
    "app_error": 0.1,
    "otp_failed": 0.1,
}

# --- Hosts and listings ------------------------------------------------------------------------------------
HOST_SHARE = 0.02  # share of users who host (at least MIN_HOSTS)
MIN_HOSTS = 3
HOST_CHURN_FACTOR = 0.3  # hosts are invested: their churn hazard as users is this times their persona's
# (and no host is a one-session trial user)
LAUNCH_HOST_SHARE = 0.4  # share of hosts who sign up in the first LAUNCH_DAYS (the platform's launch)
LAUNCH_DAYS = 3
LISTINGS_PER_WEEK = 0.5  # median per host; x exp(N(0, 0.5))
LISTINGS_SIGMA = 0.5
HOST_QUALITY_BETA = (6.0, 3.0)  # a host's latent quality ~ Beta
LISTING_QUALITY_SIGMA = 0.10  # a listing's quality = host quality + N(0, sigma), clipped to [0.05, 0.98]
HOST_DECLINE_BETA = (1.5, 18.0)  # a host's base decline rate ~ Beta (mean ≈ 0.08)
HOST_CANCEL_BETA = (1.0, 50.0)  # a host's probability of cancelling a listing at creation ~ Beta (≈ 0.02)
HOST_DROPOUT_HAZARD = 0.004  # daily hazard that a host stops publishing (x 2 while their fill rate < 20%)
LOW_FILL_CANCEL = 0.10  # priced listing with under LOW_FILL_SEATS seats a day before: cancelled with this
LOW_FILL_SEATS = 3
FREE_SHARE = 0.35  # share of a host's listings that are free (host-level Beta around it, concentration 6)
LEAD_DAYS = (1, 30)  # a listing starts this many days after it is created (uniform)
UPDATE_SHARE = 0.3  # share of listings edited once before they start
START_HOURS_WEEKDAY = (18, 19, 19, 20, 20, 21)
START_HOURS_WEEKEND = (10, 11, 12, 16, 17, 18, 19, 20)
DURATION_HOURS = (2, 2, 3, 3, 4)
# Base price (INR) of a priced listing per category; x host premium exp(N(0, 0.35)) x exp(N(0, 0.2)).
BASE_PRICE: dict[str, float] = {
    "music": 799,
    "tech": 499,
    "food": 999,
    "sports": 399,
    "art": 599,
    "networking": 299,
    "wellness": 699,
    "comedy": 499,
}
VENUES: dict[str, tuple[tuple[str, int, int], ...]] = {
    # category: (venue type, min capacity, max capacity), … — small, social events: most hold a few dozen
    "music": (("bar", 20, 60), ("club", 40, 120), ("auditorium", 60, 150)),
    "tech": (("coworking", 15, 40), ("auditorium", 50, 120), ("online", 30, 150)),
    "food": (("restaurant", 8, 20), ("cafe", 6, 16)),
    "sports": (("outdoor", 10, 30), ("arena", 16, 40)),
    "art": (("studio", 6, 16), ("gallery", 10, 30)),
    "networking": (("cafe", 10, 25), ("coworking", 15, 40), ("bar", 15, 35)),
    "wellness": (("studio", 6, 20), ("outdoor", 8, 30)),
    "comedy": (("bar", 20, 60), ("auditorium", 50, 120)),
}
TITLE_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "music": (
        ("Acoustic", "Indie", "Jazz", "Sufi", "Open Mic", "Bollywood Retro"),
        ("Night", "Sessions", "Evening"),
    ),
    "tech": (("AI", "Python", "Startup", "Product", "Cloud", "Web3"), ("Meetup", "Workshop", "Demo Day")),
    "food": (("Street Food", "Biryani", "Vegan", "Baking", "Coffee"), ("Trail", "Tasting", "Masterclass")),
    "sports": (("Football", "Cricket", "Badminton", "Running", "Cycling"), ("League", "Meetup", "Morning")),
    "art": (("Pottery", "Watercolour", "Sketching", "Photography"), ("Workshop", "Walk", "Jam")),
    "networking": (
        ("Founders", "Women in Tech", "Freelancers", "Creators"),
        ("Mixer", "Circle", "Breakfast"),
    ),
    "wellness": (("Yoga", "Meditation", "Breathwork", "Sound Bath"), ("Session", "Retreat", "Morning")),
    "comedy": (("Stand-up", "Improv", "Open Mic", "Sketch"), ("Night", "Special", "Showcase")),
}

# --- Requests, payments, attendance ----------------------------------------------------------------------
MIN_REQUEST_LEAD_HOURS = 6  # requests close this long before the start
# Real life caps how often one person goes out: at most this many upcoming commitments (requests not yet
# declined, seats not yet used), never two on the same local day, and each one held makes another
# request less likely (x COMMITMENT_DAMPING per commitment).
MAX_UPCOMING_COMMITMENTS = 3
COMMITMENT_DAMPING = 0.5
AUTO_ACCEPT_FREE = 0.5  # share of free listings that accept requests instantly
HOST_DELAY_MEDIAN_HOURS = 3.0  # host decision delay: log-normal around this median (sigma 1.0)
NEAR_CAPACITY = 0.85  # above this fill, a host declines half the requests
PRICE_SCALE = 600.0  # price acceptance = exp(-sensitivity x price / PRICE_SCALE)
PAY_DELAY_MEDIAN_HOURS = 1.5
PAY_PROPENSITY = 0.95  # probability of going to checkout after acceptance: this - 0.15 x price sensitivity
PAYMENT_FAILURE = 0.07  # probability that one payment attempt fails
PAYMENT_RETRY = 0.6  # probability of retrying after a failure (at most 3 attempts)
PAYMENT_METHODS: tuple[tuple[str, float], ...] = (
    ("upi", 0.68),
    ("card", 0.22),
    ("netbanking", 0.06),
    ("wallet", 0.04),
)
FAILURE_REASONS: dict[str, tuple[str, ...]] = {
    "upi": ("upi_timeout", "upi_timeout", "bank_error", "insufficient_funds"),
    "card": ("card_declined", "card_declined", "insufficient_funds", "authentication_failed"),
    "netbanking": ("bank_error", "session_expired"),
    "wallet": ("insufficient_funds", "wallet_error"),
}
CHARGEBACK = 0.003  # share of completed payments disputed 10-40 days later
NO_SHOW_CANCELS = 0.15  # share of no-shows who cancel beforehand (paid: refunded)
# Show-up probability of a confirmed seat (logistic; docs/simulator.md "Attendance"):
#   logit p = logit(show_up_propensity) + SHOW_BASE + SHOW_PAID x paid + SHOW_LEAD x lead_days
#             + SHOW_AFFINITY x (affinity - 1) + SHOW_WEEKEND x weekend_start + SHOW_FADING x fading
# A free seat costs nothing to abandon: a third or more of them go unused; a paid one is mostly used.
SHOW_BASE = -0.65
SHOW_PAID = 1.8
SHOW_LEAD = -0.03
SHOW_AFFINITY = 0.3
SHOW_WEEKEND = 0.25
SHOW_FADING = -0.9
SHOW_CLIP = (0.02, 0.99)
CHECKOUT_SHARE = 0.85  # attendees who check out (the rest just leave)
EXPERIENCE_SIGMA = 0.15  # experience = listing quality + N(0, sigma) + 0.05 x (affinity - 1)
POOR_EXPERIENCE, MEDIOCRE_EXPERIENCE, GREAT_EXPERIENCE = 0.45, 0.6, 0.82
# Ratings are J-shaped, as on every public review platform: most attendees give 5 stars, few give 2-4,
# and the disappointed give 1. rating = the number of RATING_THRESHOLDS that experience + N(0, sigma)
# reaches, plus 1.
RATING_SIGMA = 0.12
RATING_THRESHOLDS = (0.26, 0.34, 0.44, 0.55)
REVIEW_GREAT_BOOST = 1.4  # reviews are likelier after a great experience …
REVIEW_POOR_BOOST = 2.5  # … and much likelier after a poor one
FEEDBACK_SHARE = 0.004  # share of sessions with app feedback

# --- Platform telemetry -------------------------------------------------------------------------------------
API_SAMPLE = 0.1  # share of API-backed actions whose request is tracked as api_request
API_5XX = 0.004
API_4XX = 0.02
APP_ERROR = 0.008  # probability that a session hits an app error
APP_VERSION = "4.12.0"
API_ROUTES: dict[str, tuple[str, str, float]] = {
    # action: (method, route template, median latency ms)
    "home": ("GET", "/api/v1/events", 140.0),
    "listing": ("GET", "/api/v1/events/{id}", 95.0),
    "search": ("GET", "/api/v1/search", 210.0),
    "request": ("POST", "/api/v1/events/{id}/requests", 160.0),
    "checkout": ("POST", "/api/v1/payments/orders", 320.0),
    "confirm": ("POST", "/api/v1/payments/orders/{id}/confirm", 650.0),
    "otp": ("POST", "/api/v1/auth/otp", 240.0),
    "verify": ("POST", "/api/v1/auth/otp/verify", 180.0),
    "profile": ("PATCH", "/api/v1/users/me", 120.0),
    "review": ("POST", "/api/v1/events/{id}/reviews", 150.0),
    "create": ("POST", "/api/v1/events", 280.0),
    "ticket": ("GET", "/api/v1/tickets/{id}", 80.0),
    "notifications": ("GET", "/api/v1/notifications", 70.0),
}
APP_ERRORS = (
    "network_timeout",
    "render_error",
    "image_load_failed",
    "payment_sdk_error",
    "unexpected_response",
)
MOBILE_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.6261.119 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; M2101K6P) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/121.0.6167.178 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 12; CPH2239) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.230 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1",
)
MOBILE_AGENT_WEIGHTS = (0.3, 0.25, 0.2, 0.15, 0.1)
DESKTOP_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
)
DESKTOP_AGENT_WEIGHTS = (0.6, 0.3, 0.1)
SCREENS_EXTRA = ("profile", "my_events", "notifications", "settings", "explore")
# Time a person spends on a screen before the next tracked action: log-normal around this median (seconds),
# at most DWELL_MAX. Mobile sessions then last a few minutes on average.
DWELL_MEDIAN_SECONDS = 40.0
DWELL_SIGMA = 0.9
DWELL_MAX_SECONDS = 600.0
EXTRA_SCREENS_PER_SESSION = 0.25  # other screens per session (Poisson)

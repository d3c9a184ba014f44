"""microexp.consent: the subject's consent with a scope (per modality and use), its wire format
(``microexp_msgs/Consent``) and the check made before a session records. No ROS here."""

from microexp.consent.record import (
    CONSENT_TOPIC,
    CONSENT_TYPE,
    consent_fields,
    parse_camera_modalities,
    recorded_scope,
    scope_from_msg,
    session_consent,
)
from microexp.consent.scope import (
    CONSENT_VERSION,
    ConsentError,
    ConsentScope,
    Modality,
    OnExpiry,
    Use,
    check_pseudonym,
    legacy_scope,
    load_consent,
    parse_consent,
    parse_modalities,
    shorthand_scope,
)

__all__ = [
    "CONSENT_TOPIC",
    "CONSENT_TYPE",
    "CONSENT_VERSION",
    "ConsentError",
    "ConsentScope",
    "Modality",
    "OnExpiry",
    "Use",
    "check_pseudonym",
    "consent_fields",
    "legacy_scope",
    "load_consent",
    "parse_camera_modalities",
    "parse_consent",
    "parse_modalities",
    "recorded_scope",
    "scope_from_msg",
    "session_consent",
    "shorthand_scope",
]

"""Vendor connectors: one small protocol, typed outcomes, one client per vendor API.

See docs/connectors.md.
"""

from campusconf.connectors.base import Capabilities, Connector, UserSpec, UserState, VendorUser
from campusconf.connectors.factory import ConnectorConfigError, build_connector
from campusconf.connectors.outcomes import (
    AlreadyExists,
    AuthProblem,
    Created,
    Failure,
    HeldElsewhere,
    ListingFailed,
    NotAuthorised,
    NotFound,
    Ok,
    Outcome,
    RateLimited,
    RateScope,
    Rejected,
    TransientFailure,
    UnknownOutcome,
)

__all__ = [
    "AlreadyExists",
    "AuthProblem",
    "Capabilities",
    "Connector",
    "ConnectorConfigError",
    "Created",
    "Failure",
    "HeldElsewhere",
    "ListingFailed",
    "NotAuthorised",
    "NotFound",
    "Ok",
    "Outcome",
    "RateLimited",
    "RateScope",
    "Rejected",
    "TransientFailure",
    "UnknownOutcome",
    "UserSpec",
    "UserState",
    "VendorUser",
    "build_connector",
]

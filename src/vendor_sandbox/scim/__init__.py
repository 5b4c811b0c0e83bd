"""The vendors' SCIM 2 APIs: Webex's at /webex/identity/scim/{orgId}/v2, Zoom's at
/zoom/scim2. They are other doors to the same users as the People and Users APIs."""

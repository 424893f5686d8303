"""CloudFront sends the security headers on every behaviour: the SPA's files, the API, the streams."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.infrastructure


def test_every_behaviour_answers_with_the_security_headers(synth) -> None:  # noqa: ANN001
    # Given the synthesized stack's one response headers policy
    (policy_id, policy), = synth.resources("AWS::CloudFront::ResponseHeadersPolicy").items()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    # Then it sets HSTS for at least a year, nosniff, no framing and no referrer
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 365 * 24 * 3600
    assert headers["StrictTransportSecurity"]["IncludeSubdomains"] is True
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    # And a strict CSP: own scripts only, no inline code, no framing, no plugins
    csp = json.dumps(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    for directive in ("default-src 'self'", "script-src 'self';", "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    # And every behaviour of the distribution uses it
    (distribution,) = [d["Properties"]["DistributionConfig"] for d in synth.resources("AWS::CloudFront::Distribution").values()]
    behaviours = [distribution["DefaultCacheBehavior"], *distribution["CacheBehaviors"]]
    assert all(b.get("ResponseHeadersPolicyId") == {"Ref": policy_id} for b in behaviours), [
        b.get("PathPattern", "default") for b in behaviours if b.get("ResponseHeadersPolicyId") != {"Ref": policy_id}
    ]

"""What Webex's and Zoom's connectors share of the token path: every request carries the
service's token (``tokens.TokenKeeper``); a 401 the token may cure is sent again with the
token found next; a refusal the token cannot cure is ``NotAuthorised``. Also the
read-only calls of ``base.Preflight`` that ``campusconf vendor-check`` makes.

Each vendor's connector says which 401 a new token may cure (`_token_refused`), reads
its refusals (`_refusal`) and everything else (`_classify`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campusconf.connectors.base import ProbeAnswer
from campusconf.connectors.http_helpers import Op, Pacer, Reply, probe_answer, send
from campusconf.connectors.outcomes import NotAuthorised, Outcome
from campusconf.connectors.tokens import Token, TokenKeeper, send_with_token
from campusconf.connectors.transport.http_client import HttpClient, Response, TransportError


class BearerClient:
    tokens: TokenKeeper
    _client: HttpClient
    _pacer: Pacer | None

    def _token_refused(self, answer: Response) -> bool:
        raise NotImplementedError

    def _refusal(self, answer: Response, method: str, url: str) -> NotAuthorised | None:
        raise NotImplementedError

    def _classify(self, answer: Response | TransportError, op: Op) -> Outcome | Reply:
        raise NotImplementedError

    def _send(
        self, op: Op, method: str, url: str, *, paced: bool = True, **kwargs: Any
    ) -> Response | TransportError | Outcome:
        pacer = self._pacer if paced else None

        def with_token(token: str) -> Response | TransportError:
            headers = {"Authorization": f"Bearer {token}"}
            return send(self._client, op, method, url, pacer, headers=headers, **kwargs)

        answer, _ = send_with_token(self.tokens, with_token, self._token_refused)
        if isinstance(answer, Response):
            return self._refusal(answer, method, url) or answer
        return answer

    def _request(self, op: Op, method: str, url: str, **kwargs: Any) -> Outcome | Reply:
        answer = self._send(op, method, url, **kwargs)
        if isinstance(answer, Response | TransportError):
            return self._classify(answer, op)
        return answer

    # --- read-only calls for the go-live check (base.Preflight) -------------------

    def token(self, fresh: bool = False) -> Token | Outcome:
        return self.tokens.renew_now() if fresh else self.tokens.current()

    def probe(self, path: str, params: Mapping[str, str | int] | None = None) -> ProbeAnswer:
        # Not paced by the engine's limiter: a handful of reads by a person, not the
        # workers' stream, and the check must answer even while the limits are spent.
        answer = self._send(Op.GET, "GET", path, paced=False, params=params)
        if isinstance(answer, Response | TransportError):
            return probe_answer(answer, self._classify(answer, Op.GET))
        return probe_answer(answer, answer)

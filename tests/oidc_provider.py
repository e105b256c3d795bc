"""A small but real OpenID Connect provider for the sign-in tests, built on Authlib's server parts.

Authorization code flow (with PKCE when the client sends a challenge), a discovery document at
`/.well-known/openid-configuration`, a JWKS with one RSA key, ID tokens signed with it, a token
endpoint with client_secret_basic/post, a userinfo endpoint and RP-initiated logout. The login page
lists the provider's users as buttons ("Sign in as …"), so a browser test picks who signs in.

    with running_provider([OidcUser("ada", "ada@example.com", "Ada Lovelace")],
                          redirect_uri="http://127.0.0.1:8501/oauth2callback") as provider:
        provider.issuer, provider.metadata_url, provider.client_id, provider.client_secret
"""

from __future__ import annotations

import html
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer, OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, ResourceProtector
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from authlib.oidc.rpinitiated import EndSessionEndpoint
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.api._loopback import serve

SCOPES = ["openid", "profile", "email"]


@dataclass(frozen=True)
class OidcUser:
    sub: str
    email: str
    name: str
    email_verified: bool = True


@dataclass
class _Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    client_metadata: dict[str, Any] = field(default_factory=dict)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: OidcUser
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return "0"

    def get_amr(self) -> list[str]:
        return ["pwd"]


@dataclass
class _Token:
    access_token: str
    scope: str
    user: OidcUser
    client: _Client
    issued_at: int
    expires_in: int

    def check_client(self, client: _Client) -> bool:
        return client.client_id == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return False

    def get_user(self) -> OidcUser:
        return self.user

    def get_client(self) -> _Client:
        return self.client


class _Request(OAuth2Request):
    """An OAuth2Request from what Starlette parsed: query arguments, form fields and headers."""

    def __init__(self, request: Request, form: dict[str, str]) -> None:
        super().__init__(request.method, str(request.url), headers=request.headers)
        self._args = dict(request.query_params)
        self._form = form
        self.payload = BasicOAuth2Payload({**self._args, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


def _claims(user: OidcUser, scope: str) -> UserInfo:
    return UserInfo(sub=user.sub, name=user.name, email=user.email, email_verified=user.email_verified).filter(scope)


class OidcProvider:
    """The provider's state: clients, users, codes, tokens and a log of what happened, in order."""

    def __init__(self, users: list[OidcUser], redirect_uri: str) -> None:
        self.users = {u.sub: u for u in users}
        self.client_id = "playground-" + generate_token(8)
        self.client_secret = generate_token(32)
        self.client = _Client(self.client_id, self.client_secret, [redirect_uri],
                              {"post_logout_redirect_uris": [redirect_uri]})
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.codes: dict[str, _Code] = {}
        self.tokens: dict[str, _Token] = {}
        self.log: list[tuple[str, str]] = []  # ("login" | "token" | "userinfo" | "logout", subject)
        self.issuer = ""  # set once the server listens
        self.server = self._authorization_server()

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def _authorization_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):
            def query_client(self, client_id: str) -> _Client | None:
                return provider.client if client_id == provider.client_id else None

            def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
                provider.tokens[token["access_token"]] = _Token(
                    token["access_token"], token.get("scope", ""), request.user, request.client,
                    int(time.time()), int(token.get("expires_in", 3600)))
                provider.log.append(("token", request.user.sub))

            def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
                return request

            def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
                if isinstance(body, dict):
                    return JSONResponse(body, status_code=status, headers=dict(headers))
                return Response(body or "", status_code=status, headers=dict(headers))

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                pass

        class CodeGrant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
                data = request.payload.data
                provider.codes[code] = _Code(code, request.client.client_id, request.payload.redirect_uri,
                                             request.payload.scope, request.user, data.get("nonce"),
                                             data.get("code_challenge"), data.get("code_challenge_method"))

            def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code: _Code) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: _Code) -> OidcUser:
                return authorization_code.user

        class Pkce(CodeChallenge):
            def get_authorization_code_challenge(self, authorization_code: _Code) -> str | None:
                return authorization_code.code_challenge

            def get_authorization_code_challenge_method(self, authorization_code: _Code) -> str | None:
                return authorization_code.code_challenge_method

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
                return any(c.nonce == nonce for c in provider.codes.values() if c.code != request.payload.data.get("code"))

            def resolve_client_private_key(self, client: _Client) -> RSAKey:
                return provider.key

            def get_client_algorithm(self, client: _Client) -> str:
                return "RS256"

            def get_encode_header(self, client: _Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": "test-key"}

            def get_client_claims(self, client: _Client) -> dict[str, Any]:
                return {"iss": provider.issuer, "aud": [client.client_id]}

            def generate_user_info(self, user: OidcUser, scope: str) -> UserInfo:
                return _claims(user, scope)

        class EndSession(EndSessionEndpoint):
            def get_server_jwks(self) -> KeySet:
                return KeySet([provider.key])

            def end_session(self, end_session_request: Any) -> None:
                claims = end_session_request.id_token_claims or {}
                provider.log.append(("logout", str(claims.get("sub", ""))))

        server = Server(scopes_supported=SCOPES)
        server.register_token_generator("default", BearerTokenGenerator(lambda **_: generate_token(42)))
        server.register_grant(CodeGrant, [IdToken(require_nonce=True), Pkce(required=False)])
        server.register_endpoint(EndSession)
        return server

    # --- HTTP ---------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self._discovery),
            Route("/jwks", self._jwks),
            Route("/authorize", self._authorize, methods=["GET", "POST"]),
            Route("/token", self._token, methods=["POST"]),
            Route("/userinfo", self._userinfo, methods=["GET", "POST"]),
            Route("/logout", self._logout, methods=["GET", "POST"]),
        ])

    async def _discovery(self, request: Request) -> JSONResponse:
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": SCOPES,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "email", "email_verified"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "grant_types_supported": ["authorization_code"],
        })

    async def _jwks(self, request: Request) -> JSONResponse:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def _authorize(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        oauth_request = _Request(request, form)
        try:
            grant = self.server.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            return self.server.handle_error_response(oauth_request, error)
        if request.method == "GET":
            return HTMLResponse(self._login_page(str(request.url.query)))
        user = self.users.get(form.get("user", ""))
        if user is not None:
            self.log.append(("login", user.sub))
        return self.server.create_authorization_response(oauth_request, grant_user=user, grant=grant)

    def _login_page(self, query: str) -> str:
        buttons = "".join(
            f'<button type="submit" name="user" value="{html.escape(u.sub)}">Sign in as {html.escape(u.name)} '
            f"({html.escape(u.email)})</button>" for u in self.users.values())
        return (f"<!doctype html><title>Test identity provider</title><h1>Test identity provider</h1>"
                f'<form method="post" action="/authorize?{html.escape(query)}">{buttons}</form>')

    async def _token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        return self.server.create_token_response(_Request(request, form))

    async def _userinfo(self, request: Request) -> Response:
        provider = self

        class Validator(BearerTokenValidator):
            def authenticate_token(self, token_string: str) -> _Token | None:
                return provider.tokens.get(token_string)

        protector = ResourceProtector()
        protector.register_token_validator(Validator())
        try:
            token = protector.validate_request(["openid"], _Request(request, {}))
        except OAuth2Error as error:
            return JSONResponse(dict(error.get_body()), status_code=error.status_code)
        self.log.append(("userinfo", token.user.sub))
        return JSONResponse(dict(_claims(token.user, token.scope)))

    async def _logout(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()} if request.method == "POST" else {}
        oauth_request = _Request(request, form)
        try:
            response = self.server.create_endpoint_response("end_session", oauth_request)
        except OAuth2Error as error:
            return self.server.handle_error_response(oauth_request, error)
        if response is None:
            return HTMLResponse("<!doctype html><title>Signed out</title><p>You are signed out.</p>")
        return response


@contextmanager
def running_provider(users: list[OidcUser], *, redirect_uri: str) -> Iterator[OidcProvider]:
    """The provider under uvicorn on a free loopback port, for the duration of the block."""
    provider = OidcProvider(users, redirect_uri)
    with serve(provider.app()) as url:
        provider.issuer = url
        yield provider


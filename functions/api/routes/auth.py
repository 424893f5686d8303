"""Sign up and sign in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from functions.common.deps import SettingsDep, ThrottleDep, UserStateDep, UsersDep
from functions.api.schemas import SignupRequest, TokenOut, UserOut
from grabadora.services import accounts

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/signup", status_code=201, response_model=UserOut, responses={409: {"description": "E-mail taken"}})
def signup(body: SignupRequest, users: UsersDep, user_state: UserStateDep, request: Request) -> dict:
    """Create an account. Its languages: `languages`, else the browser's Accept-Language, else Spanish."""
    return accounts.sign_up(
        users, body.email, body.password,
        languages=body.languages, accept_language=request.headers.get("accept-language"), user_state=user_state,
    )


@router.post(
    "/token",
    response_model=TokenOut,
    responses={401: {"description": "Wrong credentials"}, 429: {"description": "Too many failed sign-ins (see Retry-After)"}},
)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    users: UsersDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    user_state: UserStateDep,
    request: Request,
) -> TokenOut:
    """Exchange e-mail (as `username`) and password for a bearer token."""
    access_token, expires_in = accounts.sign_in(
        users, settings, form.username, form.password,
        throttle=throttle, client_ip=request.client.host if request.client else None, user_state=user_state,
    )
    return TokenOut(access_token=access_token, expires_in=expires_in)

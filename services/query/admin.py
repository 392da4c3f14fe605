"""The admin API: users, teams, memberships and API keys (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from ..common.accounts import AccountError, Accounts, AlreadyExists, NotFound, Principal
from ..common.names import InvalidName
from .auth import principal, require_admin

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
Caller = Annotated[Principal, Depends(principal)]


class NewUser(BaseModel):
    name: str
    admin: bool = False


class NewTeam(BaseModel):
    name: str
    members: list[str] = Field(default_factory=list)


class NewMember(BaseModel):
    entity: str
    user: str
    role: str = "member"


class NewKey(BaseModel):
    user: str
    label: str = ""


def _accounts(request: Request, who: Principal) -> Accounts:
    require_admin(who)
    return request.app.state.accounts_writer


async def _call(action: object) -> None:
    try:
        await action  # type: ignore[misc]
    except AlreadyExists as exc:
        raise HTTPException(409, f"{exc}; pick another name") from exc
    except NotFound as exc:
        raise HTTPException(404, f"{exc}; create it first") from exc
    except InvalidName as exc:
        raise HTTPException(422, str(exc)) from exc
    except AccountError as exc:
        raise HTTPException(400, str(exc)) from exc


@router.post("/users", status_code=201)
async def add_user(body: NewUser, request: Request, who: Caller) -> dict:
    await _call(_accounts(request, who).add_user(body.name, admin=body.admin))
    return {"name": body.name}


@router.post("/teams", status_code=201)
async def add_team(body: NewTeam, request: Request, who: Caller) -> dict:
    await _call(_accounts(request, who).add_team(body.name, body.members))
    return {"name": body.name, "members": body.members}


@router.post("/members", status_code=201)
async def add_member(body: NewMember, request: Request, who: Caller) -> dict:
    accounts = _accounts(request, who)
    await _call(accounts.add_member(body.entity, body.user, body.role))
    return {"entity": body.entity, "user": body.user, "role": body.role}


@router.post("/keys", status_code=201)
async def create_key(body: NewKey, request: Request, who: Caller) -> dict:
    accounts = _accounts(request, who)
    try:
        api_key = await accounts.create_key(body.user, body.label)
    except NotFound as exc:
        raise HTTPException(404, f"{exc}; create the user first") from exc
    return {"user": body.user, "api_key": api_key}

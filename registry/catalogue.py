"""The shared materials catalogue: editors add an entry when an item needs a new one."""

from __future__ import annotations

import hashlib

from guides.i18n import _
from registry.access import Actor, PermissionDenied
from registry.db import write_transaction
from registry.errors import FieldError, ValidationError
from registry.tables import Material, Role
from registry.vocab import MATERIAL_KINDS


async def add_material(actor: Actor, *, name: str, kind: str, issuer: str = "") -> str:
    """Add a catalogue entry and return its code; a name already in the catalogue is refused."""
    if actor.role not in (Role.editor, Role.admin):
        raise PermissionDenied(_("只有编辑人员可以新增材料目录条目。"))
    name, issuer = (name or "").strip(), (issuer or "").strip()
    errors = []
    if not name or len(name) > 200:
        errors.append(FieldError("new_material_name", _("请填写材料名称（最多 200 字）")))
    if kind not in MATERIAL_KINDS:
        errors.append(FieldError("new_material_kind", _("应为 {v} 之一", v="、".join(MATERIAL_KINDS))))
    if errors:
        raise ValidationError(errors)
    async with write_transaction():
        if await Material.exists().where(Material.name == name):
            raise ValidationError(
                [FieldError("new_material_name", _("材料目录中已有“{n}”，请直接选用", n=name))]
            )
        code = "m-" + hashlib.sha1(name.encode()).hexdigest()[:10]
        await Material.insert(Material(code=code, name=name, kind=kind, issuer=issuer))
    return code

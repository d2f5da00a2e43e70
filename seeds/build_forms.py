"""Build the blank forms (空白表格) and filled-in samples (示例样表) of the seeded application forms.

Run at seed-BUILDING time, not by `onetrip seed`; the PDFs it writes under seeds/files/ and the
list seeds/attachments.toml are committed, and `onetrip seed` loads them from there:

    .venv/bin/python seeds/build_forms.py

Every catalogue material that is an application form (kind 申请表, or a name with 申请表 /
申请书 / 登记表) and that a seeded item uses gets two small A4 PDFs, drawn with reportlab's
built-in STSong-Light CID font (no font file is embedded, so each PDF is a few KB). Output is
byte-for-byte reproducible (reportlab's invariant mode), so rebuilding changes nothing unless
this script or the seeds change. The forms follow the common layout of the city's forms; they are
illustrative, and each says so: the bureau replaces them with its official forms through the
staff edit form (a new file is a new edition, reviewed like any change).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from registry.seeding import read_seeds  # noqa: E402

FONT = "STSong-Light"
FORM_NAME = re.compile(r"申请表|申请书|登记表")
INK = Color(0.05, 0.2, 0.6)  # a sample's filled-in values: blue ink
WIDTH, HEIGHT = A4
LEFT, RIGHT = 20 * mm, WIDTH - 20 * mm

PERSON = [
    ("申请人姓名", "张　伟"),
    ("性别", "男"),
    ("公民身份号码", "650102199001010000（示例号码）"),
    ("户籍地址", "乌鲁木齐市天山区解放北路 1 号"),
    ("现住址", "乌鲁木齐市新市区北京南路 100 号 2 栋 301 室"),
    ("联系电话", "0991-0000000"),
]
ORGANISATION = [
    ("单位名称", "乌鲁木齐示例商贸有限公司"),
    ("统一社会信用代码", "91650100000000000X（示例）"),
    ("法定代表人（负责人）", "李　娜"),
    ("住所", "乌鲁木齐市沙依巴克区友好南路 88 号"),
    ("联系人", "王　强"),
    ("联系电话", "0991-0000000"),
]
AGENT = [
    ("代理人姓名", "赵　敏"),
    ("代理人公民身份号码", "650104199205050000（示例号码）"),
    ("代理人联系电话", "0991-0000001"),
]
PROMISE = (
    "本人（单位）承诺：所填写的内容和提交的材料真实、准确、完整、有效，"
    "复印件与原件一致；如有虚假，愿承担相应的法律责任。"
)


def wrap(text: str, width: float, size: float) -> list[str]:
    """Lines of `text` that fit `width` points in the CJK font (character by character)."""
    lines, line = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(line + ch, FONT, size) > width:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


def draw_form(path: Path, *, title: str, item: str, unit: str, rows, materials, filled: bool) -> None:
    c = Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(f"{title}（{'示例样表' if filled else '空白表格'}）")
    c.setAuthor(unit)
    c.setSubject(item)
    y = HEIGHT - 22 * mm
    c.setFont(FONT, 18)
    c.drawCentredString(WIDTH / 2, y, title)
    y -= 8 * mm
    c.setFont(FONT, 10.5)
    c.drawCentredString(WIDTH / 2, y, f"办理事项：{item}　　受理单位：{unit}")
    if filled:
        c.saveState()
        c.setFillColor(Color(0.85, 0.1, 0.1, alpha=0.16))
        c.setFont(FONT, 54)
        c.translate(WIDTH / 2, HEIGHT / 2)
        c.rotate(35)
        c.drawCentredString(0, 0, "示例样表　仅供参考")
        c.restoreState()
    y -= 6 * mm
    label_w, row_h = 48 * mm, 10 * mm

    def row(label: str, value: str, height: float = row_h) -> None:
        nonlocal y
        c.setStrokeColor(black)
        c.rect(LEFT, y - height, label_w, height)
        c.rect(LEFT + label_w, y - height, RIGHT - LEFT - label_w, height)
        c.setFillColor(black)
        c.setFont(FONT, 11)
        c.drawString(LEFT + 2 * mm, y - 6.5 * mm, label)
        if filled and value:
            c.setFillColor(INK)
            for i, line in enumerate(wrap(value, RIGHT - LEFT - label_w - 4 * mm, 11)):
                c.drawString(LEFT + label_w + 2 * mm, y - 6.5 * mm - i * 5.5 * mm, line)
            c.setFillColor(black)
        y -= height

    for label, value in rows:
        row(label, value)
    row("申请事项", item)
    row("申请内容及理由", f"申请办理{item}，所需材料已按办事指南准备齐全。", 22 * mm)
    listed = "；".join(f"{i}. {m}" for i, m in enumerate(materials, start=1))
    lines = wrap(listed, RIGHT - LEFT - label_w - 4 * mm, 11) or [""]
    row("所附材料", listed, max(row_h, (len(lines) + 1) * 5.5 * mm))
    c.setFont(FONT, 10.5)
    c.drawString(LEFT, y - 6 * mm, "委托他人办理的，填写以下代理人信息：")
    y -= 8 * mm
    for label, value in AGENT:
        row(label, value if filled else "")
    y -= 4 * mm
    c.setFont(FONT, 11)
    for line in wrap(PROMISE, RIGHT - LEFT, 11):
        c.drawString(LEFT, y - 5 * mm, line)
        y -= 6 * mm
    y -= 6 * mm
    c.drawString(LEFT, y, "申请人（签名或盖章）：")
    c.drawString(LEFT + 100 * mm, y, "日期：　　　年　　月　　日")
    if filled:
        c.setFillColor(INK)
        c.drawString(LEFT + 42 * mm, y, rows[0][1])
        c.drawString(LEFT + 112 * mm, y, "2026　　 11　　 20")
        c.setFillColor(black)
    c.setFont(FONT, 9)
    c.drawString(
        LEFT,
        14 * mm,
        "本表为依据办事指南整理的参考格式，以受理窗口公布的正式表格为准。"
        + ("示例内容均为虚构。" if filled else ""),
    )
    c.showPage()
    c.save()


def main() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    bundle = read_seeds(ROOT)
    departments = {d.code: d.name for d in bundle.departments}
    materials = {m.code: m for m in bundle.materials}
    forms = {m.code for m in bundle.materials if m.kind == "申请表" or FORM_NAME.search(m.name)}
    out = ROOT / "files"
    out.mkdir(exist_ok=True)
    first_use = {}
    for seed in bundle.items:
        content = seed.content
        for use in content.materials:
            if use.material in forms and use.material not in first_use:
                first_use[use.material] = (seed, content)
    entries = []
    for code in sorted(first_use):
        seed, content = first_use[code]
        organisation = bool(set(content.audience) & {"法人", "其他组织"}) and "自然人" not in content.audience
        others = [materials[u.material].name for u in content.materials if u.material != code]
        for role, filled in (("blank", False), ("sample", True)):
            draw_form(
                out / f"{code}-{role}.pdf",
                title=materials[code].name,
                item=content.name,
                unit=departments[seed.department],
                rows=ORGANISATION if organisation else PERSON,
                materials=others,
                filled=filled,
            )
        entries.append(code)
    lines = [
        "# Blank forms and filled-in samples of the application forms (seeds/files/), made by",
        "# seeds/build_forms.py. Each applies to every seeded item that asks for the material,",
        "# unless the item's own entry names another file.",
        "",
    ]
    for code in entries:
        lines += [
            "[[attachment]]",
            f'material = "{code}"',
            f'blank_form = "{code}-blank.pdf"',
            f'sample = "{code}-sample.pdf"',
            "",
        ]
    (ROOT / "attachments.toml").write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(entries)} forms, {2 * len(entries)} PDFs in {out}")


if __name__ == "__main__":
    main()

"""The item workbook without a database: layout, list cells, and the exact problem report.

`make_workbook` builds the small fixture workbooks the tests read (the integration tests use it
too): readable rows as dicts keyed by header, written with openpyxl.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest

from guides import Fee, Step, Venue
from registry import spreadsheets as ss
from registry.editions.schema import CitationRef

REFS = ss.References(
    departments={"SGSJ": "乌鲁木齐市工商行政管理局", "TSQ": "乌鲁木齐市天山区人民政府"},
    materials={
        "id-card": "居民身份证",
        "application-form": "公司登记（备案）申请书",
        "power-of-attorney": "授权委托书",
    },
    documents={"company-law": "中华人民共和国公司法"},
)


def item_row(code: str, **changes: Any) -> dict[str, Any]:
    """A valid 事项 row of tests/fixtures/small_seeds' world (SGSJ, company-law, its materials)."""
    row: dict[str, Any] = {
        "事项编码": code,
        "实施主体编码": "SGSJ",
        "事项类型": "行政许可",
        "事项名称": "股权出质设立登记",
        "事项概述": "办理有限责任公司股权出质设立登记。",
        "服务对象": "自然人、法人",
        "办理结果": "股权出质设立登记通知书",
        "受理条件": "- 出质股权依法可以转让；\n- 出质人和质权人签订了质押合同。",
        "法定办结时限": 10,
        "承诺办结时限": 3,
        "到办事现场次数": 1,
        "跑动原因": "",
        "网办深度": 3,
        "实施日期": date(2026, 12, 1),
        "咨询电话": "0991-1234567",
        "投诉电话": "12345",
        "设定依据": "company-law 第七十一条",
        "办理流程": "受理｜登记窗口｜即时\n审核｜登记机关｜3个工作日｜材料齐全的当场办结",
        "收费": "不收费",
        "办理地点": "乌鲁木齐市政务服务中心｜｜2楼 工商登记窗口｜周一至周五 10:00–19:30",
        "常见问题": "可以委托他人办理吗？｜可以，需提交授权委托书。",
    }
    row.update(changes)
    return row


def material_row(code: str, position: int | None, material: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "事项编码": code,
        "序号": position,
        "材料编码": material,
        "形式": "原件",
        "份数": 1,
        "介质": "纸质或电子",
        "是否必需": "是",
        "需要情形": "",
        "可免提交": "否",
        "备注": "",
    }
    row.update(changes)
    return row


def make_workbook(
    items: Iterable[Mapping[str, Any]],
    materials: Iterable[Mapping[str, Any]] = (),
    *,
    drop: Iterable[str] = (),
    item_headers: Iterable[str] = ss.ITEM_HEADERS,
    material_headers: Iterable[str] = ss.MATERIAL_HEADERS,
    sheets: Iterable[str] = (ss.ITEM_SHEET, ss.MATERIAL_SHEET),
) -> bytes:
    """An .xlsx with the given rows; `drop` leaves columns out (of either sheet)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    dropped = set(drop)
    for title, headers, rows in (
        (ss.ITEM_SHEET, item_headers, items),
        (ss.MATERIAL_SHEET, material_headers, materials),
    ):
        if title not in sheets:
            continue
        ws = wb.create_sheet(title)
        kept = [h for h in headers if h not in dropped]
        ws.append(kept)
        for row in rows:
            ws.append([row.get(h) for h in kept])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def parse(data: bytes) -> ss.ImportPlan:
    return ss.parse_workbook(io.BytesIO(data), REFS)


# The file with each kind of error, and the exact report it must produce.
ERROR_ITEMS = [
    item_row("650100-SGSJ-101"),  # row 2: valid
    item_row("650100-SGSJ-102", 实施主体编码="SGXJ"),  # row 3: unknown department
    item_row("650100-SGSJ-103", 到办事现场次数="两次"),  # row 4: bad number
    item_row("650100-SGSJ-101", 事项名称="重复的行"),  # row 5: duplicate code
    item_row("650100-SGSJ-104", 到办事现场次数=3),  # row 6: trips > 1 without a reason
    item_row("650100-SGSJ-105", 实施日期="2026-13-01", 设定依据="no-such-law 第一条"),  # row 7
]
ERROR_MATERIALS = [
    material_row("650100-SGSJ-101", 1, "id-card"),  # row 2: valid
    material_row("650100-SGSJ-101", 2, "birth-certificate"),  # row 3: unknown material
    material_row("650100-SGSJ-999", 1, "id-card"),  # row 4: no such item in 事项
    material_row("650100-SGSJ-104", 1, "power-of-attorney", 是否必需="否"),  # row 5: optional, no 情形
]
ERROR_REPORT = [
    ("事项", 1, "常见问题", "缺少该列"),
    ("事项", 3, "实施主体编码", "未知的实施主体编码“SGXJ”"),
    ("事项", 4, "到办事现场次数", "应为整数"),
    ("事项", 5, "事项编码", "与第 2 行的事项编码重复"),
    ("事项", 6, "跑动原因", "到办事现场次数超过 1 次时，必须说明原因（跑多次是例外）"),
    ("事项", 7, "实施日期", "日期格式应为 YYYY-MM-DD"),
    ("事项", 7, "设定依据", "第 1 条：法律依据中没有“no-such-law”"),
    ("材料", 3, "材料编码", "材料目录中没有“birth-certificate”"),
    ("材料", 4, "事项编码", "「事项」表中没有编码为“650100-SGSJ-999”的事项"),
    ("材料", 5, "需要情形", "非必需材料必须写明何种情形下需要提交"),
]


def error_workbook() -> bytes:
    return make_workbook(ERROR_ITEMS, ERROR_MATERIALS, drop=["常见问题"])


def test_a_file_with_each_kind_of_error_gives_the_exact_report():
    plan = parse(error_workbook())
    assert [p.as_tuple() for p in plan.problems] == ERROR_REPORT
    assert plan.items == []  # a sheet with a missing column is never written
    assert [str(p) for p in plan.problems[:3]] == [
        "事项 第 1 行「常见问题」：缺少该列",
        "事项 第 3 行「实施主体编码」：未知的实施主体编码“SGXJ”",
        "事项 第 4 行「到办事现场次数」：应为整数",
    ]


def test_a_valid_file_becomes_item_rows_with_their_materials_in_order():
    data = make_workbook(
        [item_row("650100-SGSJ-101")],
        [
            material_row("650100-SGSJ-101", 2, "power-of-attorney", 是否必需="否", 需要情形="委托他人办理的"),
            material_row("650100-SGSJ-101", 1, "id-card", 形式="复印件", 可免提交="是"),
        ],
    )
    plan = parse(data)
    assert plan.problems == []
    (row,) = plan.items
    assert (row.row, row.code, row.department, row.item_type) == (2, "650100-SGSJ-101", "SGSJ", "行政许可")
    assert row.material_rows == (3, 2)
    c = row.content
    assert [m.material for m in c.materials] == ["id-card", "power-of-attorney"]
    assert (c.materials[0].form, c.materials[0].waivable) == ("复印件", True)
    assert (c.materials[1].required, c.materials[1].condition) == (False, "委托他人办理的")
    assert c.audience == ("自然人", "法人")
    assert c.effective_at == date(2026, 12, 1)
    assert c.legal_basis == (CitationRef("company-law", "第七十一条"),)
    assert c.steps == (
        Step("受理", "登记窗口", "即时"),
        Step("审核", "登记机关", "3个工作日", "材料齐全的当场办结"),
    )
    assert c.fees == ()
    assert c.venues == (Venue("乌鲁木齐市政务服务中心", "", "2楼 工商登记窗口", "周一至周五 10:00–19:30"),)
    assert c.faq[0].answer == "可以，需提交授权委托书。"


def test_columns_are_found_by_header_in_any_order():
    headers = list(reversed(ss.ITEM_HEADERS))
    data = make_workbook([item_row("650100-SGSJ-101")], item_headers=headers)
    plan = parse(data)
    assert plan.problems == []
    assert plan.items[0].content.name == "股权出质设立登记"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (datetime(2026, 12, 1), date(2026, 12, 1)),  # a real Excel date cell
        ("2026-12-01", date(2026, 12, 1)),
        ("2026/12/1", date(2026, 12, 1)),
        ("2026年12月1日", date(2026, 12, 1)),
    ],
)
def test_dates(cell, expected):
    plan = parse(make_workbook([item_row("650100-SGSJ-101", 实施日期=cell)]))
    assert plan.items[0].content.effective_at == expected


def test_numbers_typed_as_text_or_float_and_phone_numbers_typed_as_numbers():
    row = item_row("650100-SGSJ-101", 法定办结时限="10", 承诺办结时限=3.0, 投诉电话=12345, 网办深度=None)
    content = parse(make_workbook([row])).items[0].content
    assert (content.statutory_days, content.promised_days) == (10, 3)
    assert content.complaint_phone == "12345"
    assert content.online_depth == 0


def test_every_content_rule_is_reported_on_its_column():
    rows = [
        item_row("650100-SGSJ-101", 承诺办结时限=20),
        item_row("650100-SGSJ-102", 网办深度=4),
        item_row("650100-SGSJ-103", 投诉电话="0991-1234567", 服务对象="市民"),
        item_row("650100-SGSJ-104", 办理流程="｜申请人\n受理｜窗口｜即时｜说明｜agent=yes｜多余"),
        item_row("650100-SGSJ-105", 收费="工本费", 事项编码="bad code"),
        item_row("650100-SGSJ-106", 事项类型="行政审批", 事项名称=None, 设定依据="company-law\ncompany-law"),
    ]
    materials = [
        material_row("650100-SGSJ-101", 1, "id-card", 份数=0, 介质="光盘"),
        material_row("650100-SGSJ-101", 2, "id-card", 是否必需="必需"),
        material_row("650100-SGSJ-102", None, "", 材料名称="授权委托书", 是否必需="否", 需要情形="委托的"),
        material_row("650100-SGSJ-102", None, "", 材料名称="户口本"),
        material_row("650100-SGSJ-103", "一", "id-card"),
    ]
    plan = parse(make_workbook(rows, materials))
    assert [p.as_tuple() for p in plan.problems] == [
        ("事项", 2, "承诺办结时限", "承诺办结时限（20 个工作日）不能超过法定办结时限（10 个工作日）"),
        ("事项", 3, "网办深度", "网办深度为四星（全程网办）时，到办事现场次数应为 0"),
        ("事项", 4, "服务对象", "“市民”不是可选值（自然人、法人、其他组织）"),
        ("事项", 4, "投诉电话", "投诉电话应与咨询电话不同"),
        ("事项", 5, "办理流程", "第 2 条：最多 5 项（步骤｜办理人｜时限｜说明｜适用情形），用“｜”分隔"),
        ("事项", 5, "办理流程", "第 1 条「步骤」：必填"),
        ("事项", 5, "办理流程", "第 2 条「适用情形」：情形引导中没有问题“agent”"),
        ("事项", 6, "事项编码", "事项编码应为 3–40 位大写字母、数字或连字符"),
        ("事项", 6, "收费", "第 1 条「金额」：必填"),
        ("事项", 7, "事项类型", "应为 行政许可、行政给付、行政确认、行政征收、行政奖励、"
                                 "行政裁决、其他行政权力、公共服务 之一"),
        ("事项", 7, "事项名称", "必填"),
        ("事项", 7, "设定依据", "第 2 条：重复的设定依据"),
        ("材料", 2, "份数", "应在 1 到 99 之间"),
        ("材料", 2, "介质", "应为 纸质、电子、纸质或电子 之一"),
        ("材料", 3, "材料编码", "与第 1 项材料重复"),
        ("材料", 3, "是否必需", "应填“是”或“否”"),
        ("材料", 5, "材料名称", "材料目录中没有名为“户口本”的材料"),
        ("材料", 6, "序号", "应为整数"),
    ]  # fmt: skip
    # Rows 2, 4 and 7 have cells that do not read AND broken rules: both are reported at once.


def test_missing_sheet_duplicate_header_and_not_a_workbook():
    plan = parse(make_workbook([item_row("650100-SGSJ-101")], sheets=[ss.ITEM_SHEET]))
    assert [p.as_tuple() for p in plan.problems] == [("材料", None, "", "缺少工作表「材料」")]
    assert str(plan.problems[0]) == "材料：缺少工作表「材料」"
    assert plan.items == []

    doubled = parse(make_workbook([item_row("650100-SGSJ-101")], item_headers=[*ss.ITEM_HEADERS, "事项名称"]))
    assert [p.as_tuple() for p in doubled.problems] == [("事项", 1, "事项名称", "列名重复")]

    garbage = ss.parse_workbook(io.BytesIO(b"code,name\n1,2\n"), REFS)
    assert [str(p) for p in garbage.problems] == ["无法读取文件：应为 Excel 工作簿（.xlsx）"]


def test_a_workbook_with_a_broken_sheet_is_reported_not_raised():
    good = zipfile.ZipFile(io.BytesIO(make_workbook([item_row("650100-SGSJ-101")])))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as out:
        for name in good.namelist():
            data = good.read(name)
            out.writestr(name, data[: len(data) // 2] if name.endswith("sheet1.xml") else data)
    plan = ss.parse_workbook(io.BytesIO(broken.getvalue()), REFS)
    assert [str(p) for p in plan.problems] == ["无法读取文件：应为 Excel 工作簿（.xlsx）"]


def test_the_empty_template_has_the_notes_sheet_and_imports_to_nothing():
    data = ss.template_bytes()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["事项", "材料", "说明"]
    assert [c.value for c in wb["事项"][1]] == list(ss.ITEM_HEADERS)
    assert [c.value for c in wb["材料"][1]] == list(ss.MATERIAL_HEADERS)
    notes = "\n".join(str(c.value) for row in wb["说明"].iter_rows() for c in row if c.value)
    for header in ss.ITEM_HEADERS + ss.MATERIAL_HEADERS:
        assert header in notes
    assert "步骤｜办理人｜时限｜说明｜适用情形" in notes
    plan = ss.parse_workbook(io.BytesIO(data), REFS)
    assert [p.as_tuple() for p in plan.problems] == [
        ("事项", None, "", "没有任何事项（第 2 行起每行一个事项）")
    ]


@pytest.mark.parametrize(
    "parts",
    [
        ["受理", "窗口", "即时", "说明"],
        ["含｜全角竖线", "含|半角竖线", "C:\\temp\\n 不是换行", "两行\n说明"],
        ["反斜杠\\", "", "", "结尾"],
        ["只有步骤", "", "", ""],
    ],
)
def test_list_cells_round_trip(parts):
    encoded = ss.encode_list("steps", [Step(*parts)])
    assert "\n" not in encoded
    assert ss._split(encoded) + [""] * (4 - len(ss._split(encoded))) == parts


def test_fees_and_legal_basis_encodings():
    assert ss.encode_list("fees", []) == "不收费"
    assert ss.encode_list("fees", [Fee("工本费", "20元", "")]) == "工本费｜20元"
    assert (
        ss.encode_list("legal_basis", [CitationRef("company-law", "第六条 第二款")])
        == "company-law 第六条 第二款"
    )
    plan = parse(
        make_workbook([item_row("650100-SGSJ-101", 设定依据="company-law　第六条 第二款\n\ncompany-law")])
    )
    assert plan.items[0].content.legal_basis == (
        CitationRef("company-law", "第六条 第二款"),
        CitationRef("company-law", ""),
    )


def test_csv_has_a_bom_and_defuses_formulas():
    data = ss.csv_bytes(["事项编码", "说明"], [["A-1", "=HYPERLINK(1)"], ["A-2", date(2026, 1, 2)]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == ["事项编码,说明", "A-1,'=HYPERLINK(1)", "A-2,2026-01-02"]


def test_xlsx_text_is_never_a_formula():
    data = ss.xlsx_bytes([ss.SheetSpec("表", ["说明"], [["=1+1"]])])
    ws = openpyxl.load_workbook(io.BytesIO(data))["表"]
    assert ws["A2"].value == "=1+1"
    assert ws["A2"].data_type == "s"

"""Statement files read into rows: one fixture per layout (built from each provider's documented
layout; see ``statements/README.md`` for the sources), their packings (zip, gzip, GBK), and
refusals that name the line."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import zipfile
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cimaise.core.errors import InvalidInput
from cimaise.payments.statements import statement_parse
from cimaise.payments.tests.factories_reconciliation import (
    ALIPAY_1,
    ALIPAY_2,
    ALIPAY_REFUND,
    BEIJING,
    SANDBOX_1,
    SANDBOX_REFUND,
    WECHAT_1,
    WECHAT_REFUND,
    fixture,
    sandbox_csv,
)


def summary(rows: list[object]) -> list[tuple[object, ...]]:
    return [
        (r.kind, r.out_trade_no, r.refund_id, r.amount, r.currency, r.status, r.line)  # type: ignore[attr-defined]
        for r in rows
    ]


def test_the_alipay_trade_bill_is_read_with_its_refund_and_beijing_times() -> None:
    rows = statement_parse(provider="alipay", data=fixture("alipay_trade_bill.csv"))
    assert summary(rows) == [  # type: ignore[arg-type]
        ("payment", ALIPAY_1, "", Decimal("120.00"), "CNY", "paid", 6),
        ("payment", ALIPAY_2, "", Decimal("60.00"), "CNY", "paid", 7),
        ("refund", ALIPAY_1, ALIPAY_REFUND, Decimal("20.00"), "CNY", "succeeded", 8),
    ]
    assert rows[0].provider_reference == "2020010222001400000000000001"  # the tab is gone
    assert rows[0].occurred_at == dt.datetime(2020, 1, 2, 10, 0, 31, tzinfo=BEIJING)


def gbk_zip(files: dict[str, bytes]) -> bytes:
    """A zip whose member names are GBK without the UTF-8 flag, as Alipay's are (Python would
    write UTF-8: ASCII placeholders of the same length are written, then swapped)."""
    packed = io.BytesIO()
    swaps = {}
    with zipfile.ZipFile(packed, "w") as archive:
        for i, (name, content) in enumerate(files.items()):
            raw = name.encode("gbk")
            placeholder = f"{i}".rjust(len(raw), "x").encode()
            swaps[placeholder] = raw
            archive.writestr(placeholder.decode(), content)
    data = packed.getvalue()
    for placeholder, raw in swaps.items():
        data = data.replace(placeholder, raw)
    return data


def test_the_alipay_bill_is_also_taken_inside_the_zip_alipay_serves() -> None:
    data = gbk_zip(
        {
            "20880000000000000156_20200102_业务明细.csv": fixture("alipay_trade_bill.csv"),
            "20880000000000000156_20200102_业务明细(汇总).csv": b"#summary\n",
        }
    )
    rows = statement_parse(provider="alipay", data=data)
    assert [r.out_trade_no for r in rows] == [ALIPAY_1, ALIPAY_2, ALIPAY_1]


def test_a_zip_with_two_detail_files_is_refused() -> None:
    data = gbk_zip({"a.csv": fixture("alipay_trade_bill.csv"), "b.csv": fixture("alipay_trade_bill.csv")})
    assert "exactly one detail CSV" in refusal("alipay", data).message


def test_the_wechat_pay_trade_bill_is_read_without_its_backticks_or_summary() -> None:
    rows = statement_parse(provider="wechatpay", data=fixture("wechatpay_tradebill_all.csv"))
    assert summary(rows) == [  # type: ignore[arg-type]
        ("payment", WECHAT_1, "", Decimal("17.00"), "EUR", "paid", 2),
        ("refund", WECHAT_1, WECHAT_REFUND, Decimal("17.00"), "EUR", "succeeded", 3),
    ]
    assert rows[0].provider_reference == "4200000512202001020000000001"
    assert rows[1].provider_reference == "50300000000000000000000001"
    assert rows[1].occurred_at == dt.datetime(2020, 1, 2, 18, 2, 40, tzinfo=BEIJING)


def test_a_gzipped_wechat_pay_bill_is_read_too() -> None:
    rows = statement_parse(provider="wechatpay", data=gzip.compress(fixture("wechatpay_tradebill_all.csv")))
    assert len(rows) == 2


def test_the_sandbox_statement_is_read_with_the_refund_id_of_its_own_column() -> None:
    rows = statement_parse(provider="sandbox", data=fixture("sandbox_statement.csv"))
    assert [(r.kind, r.refund_id, r.status) for r in rows] == [
        ("payment", "", "paid"),
        ("payment", "", "paid"),
        ("refund", SANDBOX_REFUND, "succeeded"),
    ]
    assert rows[0].occurred_at == dt.datetime(2020, 1, 2, 9, 15, tzinfo=dt.UTC)


def test_a_sandbox_refund_without_the_column_takes_its_id_from_provider_reference() -> None:
    data = sandbox_csv(f"2020-01-02T16:30:00+01:00,{SANDBOX_1},{SANDBOX_REFUND},refund,1.00,EUR,pending")
    (row,) = statement_parse(provider="sandbox", data=data)
    assert (row.refund_id, row.status) == (SANDBOX_REFUND, "pending")


def test_a_statement_with_only_its_header_has_no_rows() -> None:
    assert statement_parse(provider="sandbox", data=sandbox_csv()) == []


def refusal(provider: str, data: bytes) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        statement_parse(provider=provider, data=data)
    assert caught.value.field == "statement"
    return caught.value


@pytest.mark.parametrize(
    ("row", "named"),
    [
        (f"2020-01-02T10:15:00+01:00,{SANDBOX_1},t1,payment,12.5x,EUR,paid", "amount"),
        (f"2020-01-02T10:15:00+01:00,{SANDBOX_1},t1,payment,12.505,EUR,paid", "amount"),
        (f"2020-01-02T10:15:00+01:00,{SANDBOX_1},t1,gift,12.50,EUR,paid", "type"),
        (f"2020-01-02T10:15:00+01:00,{SANDBOX_1},t1,payment,12.50,euro,paid", "currency"),
        (f"2020-01-02T10:15:00+01:00,{SANDBOX_1},t1,payment,12.50,EUR,succeeded", "status"),
        (f"2020-01-02 10:15:00,{SANDBOX_1},t1,payment,12.50,EUR,paid", "offset"),
        (f"yesterday,{SANDBOX_1},t1,payment,12.50,EUR,paid", "time"),
        ("2020-01-02T10:15:00+01:00,,t1,payment,12.50,EUR,paid", "out_trade_no"),
        (f"2020-01-02T10:15:00+01:00,{SANDBOX_1},,refund,12.50,EUR,succeeded", "out_refund_no"),
    ],
)
def test_a_bad_sandbox_row_is_refused_naming_its_line(row: str, named: str) -> None:
    good = f"2020-01-02T09:00:00+01:00,{SANDBOX_1},t0,payment,1.00,EUR,paid"
    error = refusal("sandbox", sandbox_csv(good, "", row))
    assert error.details == {"field": "statement", "line": 4}
    assert error.message.startswith("statement line 4: ") and named in error.message


def test_a_file_of_another_provider_is_refused_at_its_header() -> None:
    error = refusal("alipay", fixture("wechatpay_tradebill_all.csv"))
    assert error.details == {"field": "statement", "line": 1} and "not an Alipay trade bill" in error.message
    error = refusal("wechatpay", fixture("sandbox_statement.csv"))
    assert "not a WeChat Pay trade bill" in error.message


def test_a_bad_alipay_row_and_a_bad_wechat_row_name_their_line() -> None:
    alipay = fixture("alipay_trade_bill.csv").decode("gbk").replace("60.00,60.00", "6O.00,60.00")
    assert refusal("alipay", alipay.encode("gbk")).details == {"field": "statement", "line": 7}
    wechat = fixture("wechatpay_tradebill_all.csv").decode().replace("`REFUND", "`REFUNDING")
    assert refusal("wechatpay", wechat.encode()).details == {"field": "statement", "line": 3}


@pytest.mark.parametrize("data", [b"", b"\x1f\x8bnot gzip", b"PK\x03\x04broken", b"\xff\xfe\x00\xd8\x00"])
def test_empty_damaged_or_undecodable_files_are_refused(data: bytes) -> None:
    refusal("sandbox", data)


def test_a_zip_that_unpacks_beyond_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from cimaise.payments import statements

    monkeypatch.setattr(statements, "MAX_BYTES", 1000)
    error = refusal("wechatpay", gzip.compress(b"x" * 5000))
    assert "unpacked" in error.message


@given(st.binary(max_size=400))
def test_any_bytes_give_rows_or_a_refusal_naming_the_statement(data: bytes) -> None:
    for provider in ("alipay", "wechatpay", "sandbox"):
        try:
            statement_parse(provider=provider, data=data)
        except InvalidInput as exc:
            assert exc.field == "statement"


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["payment", "refund"]),
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2),
            st.from_regex(r"[0-9a-f]{32}", fullmatch=True),
        ),
        max_size=20,
    )
)
def test_sandbox_rows_written_are_read_back_exactly(rows: list[tuple[str, Decimal, str]]) -> None:
    status = {"payment": "paid", "refund": "succeeded"}
    lines = [
        f"2020-01-02T10:00:00+01:00,{pid},t{i},{kind},{amount},EUR,{status[kind]}"
        for i, (kind, amount, pid) in enumerate(rows)
    ]
    read = statement_parse(provider="sandbox", data=sandbox_csv(*lines))
    assert [(r.kind, r.amount, r.out_trade_no) for r in read] == rows

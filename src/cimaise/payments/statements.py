"""Provider statement files read into rows: one row per payment or refund the provider lists.

Three layouts, each read by its header's column names (so extra or reordered columns are fine):

- **Alipay** trade bill (``alipay.data.dataservice.bill.downloadurl.query``, ``bill_type=trade``;
  the ``…_业务明细.csv`` inside the downloaded zip, GBK-encoded): ``#`` comment lines around a
  header ``支付宝交易号,商户订单号,业务类型,…,完成时间,…,订单金额（元）,…,退款批次号/请求号,…``;
  ids end with a tab; ``业务类型`` is ``交易`` (payment) or ``退款`` (refund, negative amounts,
  our refund id in ``退款批次号/请求号``). Amounts are in yuan; times are Beijing time.
- **WeChat Pay** trade bill (``GET /v3/bill/tradebill``, ``bill_type=ALL``): a header
  ``交易时间,公众账号ID,商户号,…,商户订单号,…,交易状态,…,货币种类,应结订单金额,…,
  商户退款单号,退款金额,…,退款状态,…,订单金额,申请退款金额,费率备注``, every detail cell
  prefixed with a backtick, then the summary header ``总交易单数,…`` and one summary line.
  ``交易状态`` ``REFUND`` marks a refund row (our refund id in ``商户退款单号``). Beijing time.
- **Sandbox**: our own ``time,out_trade_no,provider_reference,type,amount,currency,status``
  (``type`` payment or refund; ``time`` ISO 8601 with its offset; payment status ``paid`` or
  ``failed``, refund status ``succeeded``, ``pending`` or ``failed``). A refund's id is in an
  optional ``out_refund_no`` column, else in ``provider_reference``.

A file that is not of its provider's layout, or a row that cannot be read, is refused with
``InvalidInput`` naming ``statement`` and the line (``details["line"]``).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
import zipfile
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Literal

from cimaise.core.errors import InvalidInput
from cimaise.payments.money import CURRENCY

MAX_BYTES = 20 * 1024 * 1024
BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
_AMOUNT = re.compile(r"^-?\d{1,10}(\.\d{1,2})?$")
_ID = re.compile(r"^[\x21-\x7e]{1,64}$")  # printable ASCII, no spaces: every id we use or are given

Kind = Literal["payment", "refund"]


@dataclass(frozen=True)
class StatementRow:
    """A transaction as the provider lists it. ``status`` is normalised: ``paid`` or ``failed``
    for a payment, ``succeeded``, ``pending`` or ``failed`` for a refund; ``raw_status`` is the
    provider's word."""

    line: int
    kind: Kind
    out_trade_no: str
    refund_id: str
    provider_reference: str
    amount: Decimal
    currency: str
    status: str
    raw_status: str
    occurred_at: dt.datetime | None


class _Refused(Exception):
    """A row that cannot be read; the parser adds the line."""


def refused(line: int, message: str) -> InvalidInput:
    return InvalidInput(
        f"statement line {line}: {message}", field="statement", details={"field": "statement", "line": line}
    )


def statement_parse(*, provider: str, data: bytes) -> list[StatementRow]:
    """The rows of a statement file of ``provider``'s layout (``alipay``, ``wechatpay``,
    ``sandbox``), or ``InvalidInput`` naming ``statement`` and the line."""
    parser = PARSERS.get(provider)
    if parser is None:
        raise InvalidInput(f"no statement layout for provider {provider!r}", field="provider")
    return parser(_text(_unpacked(data)))


def _unpacked(data: bytes) -> bytes:
    """The CSV bytes: as uploaded, or out of Alipay's zip or WeChat Pay's gzip."""
    if not data:
        raise InvalidInput("statement: the file is empty", field="statement")
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"statement: larger than {MAX_BYTES // 2**20} MB", field="statement")
    if data[:2] == b"\x1f\x8b":
        return _bounded(gzip.GzipFile(fileobj=io.BytesIO(data)))
    if data[:4] == b"PK\x03\x04":
        return _from_zip(data)
    return data


def _bounded(stream: IO[bytes] | gzip.GzipFile) -> bytes:
    """At most ``MAX_BYTES`` decompressed (a small archive can unpack to gigabytes)."""
    try:
        out = stream.read(MAX_BYTES + 1)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InvalidInput("statement: the compressed file is damaged", field="statement") from exc
    if len(out) > MAX_BYTES:
        raise InvalidInput(f"statement: larger than {MAX_BYTES // 2**20} MB unpacked", field="statement")
    return out


def _from_zip(data: bytes) -> bytes:
    """Alipay's zip holds the detail (``…_业务明细.csv``) and a summary (``…(汇总).csv``)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if _is_detail(_member_name(m))]
        if len(members) != 1:
            raise InvalidInput("statement: the zip file must hold exactly one detail CSV", field="statement")
        with archive.open(members[0]) as member:
            return _bounded(member)
    except (
        zipfile.BadZipFile,
        NotImplementedError,  # what zipfile raises for a compression method it does not know
        RuntimeError,  # what zipfile raises for an encrypted member
    ) as exc:
        raise InvalidInput("statement: the zip file is damaged or encrypted", field="statement") from exc


def _member_name(member: zipfile.ZipInfo) -> str:
    """A member's name: Alipay writes it in GBK without the zip's UTF-8 flag, so Python reads it
    as code page 437; undo that."""
    if member.flag_bits & 0x800:
        return member.filename
    try:
        return member.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return member.filename


def _is_detail(name: str) -> bool:
    return name.lower().endswith(".csv") and "汇总" not in name


def _text(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else GB18030 (Alipay's bills are GBK)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise refused(line, "the file is neither UTF-8 nor GBK text") from exc


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the number of the line it starts on; blank lines skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise refused(reader.line_num, f"not CSV ({exc})") from exc


class _Table:
    """A header's column positions, and the cells of one row by column name."""

    def __init__(self, line: int, header: list[str], clean: Callable[[str], str]) -> None:
        self.line = line
        self.clean = clean
        self.columns = {_header_name(name): i for i, name in enumerate(header)}

    def require(self, layout: str, *names: str) -> None:
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise refused(self.line, f"not {layout}: the header lacks {', '.join(missing)}")

    def has(self, name: str) -> bool:
        return name in self.columns

    def record(self, cells: list[str]) -> dict[str, str]:
        return {name: self.clean(cells[i]) if i < len(cells) else "" for name, i in self.columns.items()}


def _header_name(name: str) -> str:
    """``订单金额（元）`` → ``订单金额``: Alipay writes its unit in the column names."""
    return re.sub(r"[（(]元[）)]$", "", name.strip().lstrip("\ufeff`"))


def _amount(text: str, name: str) -> Decimal:
    if not _AMOUNT.match(text):
        raise _Refused(f"{name} {text[:20]!r} is not an amount with at most two decimals")
    return abs(Decimal(text))


def _identifier(text: str, name: str, *, required: bool = True) -> str:
    if not text and not required:
        return ""
    if not _ID.match(text):
        raise _Refused(f"{name} {text[:70]!r} is missing or not an identifier")
    return text


def _beijing_time(text: str, name: str) -> dt.datetime:
    try:
        naive = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 (Beijing time, set below)
    except ValueError as exc:
        raise _Refused(f"{name} {text[:30]!r} is not a time as YYYY-MM-DD HH:MM:SS") from exc
    return naive.replace(tzinfo=BEIJING)


def _parse_rows(
    rows: Iterator[tuple[int, list[str]]],
    table: _Table,
    read: Callable[[int, Mapping[str, str]], StatementRow],
    stop: Callable[[list[str]], bool] = lambda cells: False,
) -> list[StatementRow]:
    out = []
    for line, cells in rows:
        if stop(cells):
            break
        try:
            out.append(read(line, table.record(cells)))
        except _Refused as exc:
            raise refused(line, str(exc)) from exc
    return out


# Alipay


def _alipay(text: str) -> list[StatementRow]:
    rows = (item for item in _rows(text) if not item[1][0].lstrip().startswith("#"))
    line, header = next(rows, (1, []))
    table = _Table(line, header, lambda cell: cell.strip())
    table.require("an Alipay trade bill", "支付宝交易号", "商户订单号", "业务类型", "完成时间", "订单金额")
    return _parse_rows(rows, table, _alipay_row)


def _alipay_row(line: int, cells: Mapping[str, str]) -> StatementRow:
    business = cells["业务类型"]
    if business not in ("交易", "退款"):
        raise _Refused(f"业务类型 {business[:20]!r} is neither 交易 (payment) nor 退款 (refund)")
    refund = business == "退款"
    return StatementRow(
        line=line,
        kind="refund" if refund else "payment",
        out_trade_no=_identifier(cells["商户订单号"], "商户订单号"),
        refund_id=_identifier(cells.get("退款批次号/请求号", ""), "退款批次号/请求号") if refund else "",
        provider_reference=_identifier(cells["支付宝交易号"], "支付宝交易号"),
        amount=_amount(cells["订单金额"], "订单金额"),
        currency="CNY",
        status="succeeded" if refund else "paid",  # the bill lists only what succeeded
        raw_status=business,
        occurred_at=_beijing_time(cells["完成时间"], "完成时间"),
    )


# WeChat Pay

_WECHAT_PAYMENT_STATES = {"SUCCESS": "paid", "REVOKED": "failed", "CLOSED": "failed", "PAYERROR": "failed"}
_WECHAT_REFUND_STATES = {
    "SUCCESS": "succeeded",
    "PROCESSING": "pending",
    "REFUNDCLOSE": "failed",
    "ABNORMAL": "failed",
    "CHANGE": "failed",
    "": "succeeded",  # older bills leave it empty: a refund row is listed once it was accepted
}


def _wechatpay(text: str) -> list[StatementRow]:
    rows = _rows(text)
    line, header = next(rows, (1, []))
    table = _Table(line, header, lambda cell: cell.strip().removeprefix("`").strip())
    table.require("a WeChat Pay trade bill", "交易时间", "微信订单号", "商户订单号", "交易状态", "货币种类")
    if not any(table.has(name) for name in ("订单金额", "总金额", "应结订单金额")):
        raise refused(line, "not a WeChat Pay trade bill: the header lacks 订单金额")
    return _parse_rows(rows, table, _wechat_row, stop=lambda cells: cells[0].strip().startswith("总"))


def _wechat_amount(cells: Mapping[str, str], *names: str) -> Decimal:
    """The first of ``names`` the bill has and fills (newer bills add 订单金额, 申请退款金额)."""
    for name in names:
        if cells.get(name):
            return _amount(cells[name], name)
    raise _Refused(f"{names[0]} is missing")


def _wechat_reference(cells: Mapping[str, str], refund: bool) -> str:
    name = "微信退款单号" if refund else "微信订单号"
    return _identifier(cells.get(name, ""), name, required=not refund)


def _wechat_row(line: int, cells: Mapping[str, str]) -> StatementRow:
    state = cells["交易状态"]
    refund = state == "REFUND"
    states = _WECHAT_REFUND_STATES if refund else _WECHAT_PAYMENT_STATES
    raw = cells.get("退款状态", "") if refund else state
    if raw not in states:
        raise _Refused(f"{'退款状态' if refund else '交易状态'} {raw[:20]!r} is not a known state")
    currency = cells["货币种类"]
    if not CURRENCY.match(currency):
        raise _Refused(f"货币种类 {currency[:10]!r} is not a currency code")
    amount_columns = ("申请退款金额", "退款金额") if refund else ("订单金额", "总金额", "应结订单金额")
    return StatementRow(
        line=line,
        kind="refund" if refund else "payment",
        out_trade_no=_identifier(cells["商户订单号"], "商户订单号"),
        refund_id=_identifier(cells.get("商户退款单号", ""), "商户退款单号") if refund else "",
        provider_reference=_wechat_reference(cells, refund),
        amount=_wechat_amount(cells, *amount_columns),
        currency=currency,
        status=states[raw],
        raw_status=raw or state,
        occurred_at=_beijing_time(cells["交易时间"], "交易时间"),
    )


# Sandbox

SANDBOX_HEADER = ("time", "out_trade_no", "provider_reference", "type", "amount", "currency", "status")
_SANDBOX_STATES = {"payment": ("paid", "failed"), "refund": ("succeeded", "pending", "failed")}


def _sandbox(text: str) -> list[StatementRow]:
    rows = _rows(text)
    line, header = next(rows, (1, []))
    table = _Table(line, header, lambda cell: cell.strip())
    table.require("a sandbox statement", *SANDBOX_HEADER)
    return _parse_rows(rows, table, _sandbox_row)


def _sandbox_row(line: int, cells: Mapping[str, str]) -> StatementRow:
    kind = cells["type"]
    if kind not in _SANDBOX_STATES:
        raise _Refused(f"type {kind[:20]!r} is neither payment nor refund")
    status = cells["status"]
    if status not in _SANDBOX_STATES[kind]:
        raise _Refused(f"status {status[:20]!r} is not one of {', '.join(_SANDBOX_STATES[kind])}")
    if not CURRENCY.match(cells["currency"]):
        raise _Refused(f"currency {cells['currency'][:10]!r} is not a currency code")
    refund_id = cells.get("out_refund_no") or cells["provider_reference"]
    return StatementRow(
        line=line,
        kind="refund" if kind == "refund" else "payment",
        out_trade_no=_identifier(cells["out_trade_no"], "out_trade_no"),
        refund_id=_identifier(refund_id, "out_refund_no") if kind == "refund" else "",
        provider_reference=_identifier(cells["provider_reference"], "provider_reference", required=False),
        amount=_amount(cells["amount"], "amount"),
        currency=cells["currency"],
        status=status,
        raw_status=status,
        occurred_at=_iso_time(cells["time"]),
    )


def _iso_time(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise _Refused(f"time {text[:40]!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise _Refused(f"time {text[:40]!r} has no UTC offset")
    return moment


PARSERS: dict[str, Callable[[str], list[StatementRow]]] = {
    "alipay": _alipay,
    "wechatpay": _wechatpay,
    "sandbox": _sandbox,
}

"""The till's words. Chinese first; the English table is for the language switch."""

from __future__ import annotations

ZH: dict[str, str] = {
    "app_title": "Tillpoint 收银",
    "operator_prompt": "请输入工号，按 Enter 确认",
    "pin_prompt": "请输入密码，按 Enter 登录（Esc 返回）",
    "float_prompt": "本班备用金（元），按 Enter 开班",
    "scan_prompt": "扫描或输入条码；数量*条码，如 3*6901234567892；Enter 确认",
    "member_prompt": "会员：刷卡/输入卡号，或 手机号*密码；Enter 确认，Esc 取消",
    "qty_prompt": "新数量（称重商品输入公斤数），Enter 确认，Esc 取消",
    "tender_prompt": "输入收款金额（元），Enter 确认；直接 Enter 收取剩余金额",
    "offline": "门店服务器无法连接：购物篮已保留，恢复后自动重试",
    "offline_commit": (
        "门店服务器无法连接：本笔交易已保留，恢复后用同一交易号自动提交，不会重复收款"
    ),
    "bad_amount": "金额格式不对：最多两位小数",
    "bad_quantity": "数量格式不对：最多三位小数",
    "empty_basket": "购物篮是空的：请先扫描商品",
    "no_line": "没有选中的商品行",
    "over_non_cash": "非现金支付不能超过剩余应付金额",
    "need_reference": "请输入刷卡凭证号或支付单号",
    "reference_prompt": "{kind} ¥{amount}：输入凭证号/支付单号，Enter 确认，Esc 取消",
    "need_member": "储值卡和积分支付需要先登记会员",
    "login_needed": "请输入工号和密码",
    "shift_opened": "已开班，备用金 ¥{amount}",
    "welcome": "{name}，欢迎！",
    "sale_done": "交易完成  小票 {receipt_no}",
    "change_due": "找零 ¥{amount}",
    "next_sale": "按 Enter 开始下一笔",
    "member_badge": "{name}  {phone}  {tier}  积分 {points}  储值 ¥{stored}",
    "subtotal": "小计",
    "discount": "优惠",
    "total": "应付",
    "items": "件数",
    "paid": "已付",
    "remaining": "剩余",
    "line_voided": "已删除：{name}",
    "cash": "现金",
    "bank_card": "银行卡",
    "mobile": "移动支付",
    "stored_value": "储值卡",
    "points": "积分抵现",
}

EN: dict[str, str] = {
    **ZH,
    "app_title": "Tillpoint till",
    "operator_prompt": "Operator id, then Enter",
    "pin_prompt": "PIN, then Enter (Esc: back)",
    "float_prompt": "Opening float (yuan), then Enter",
    "scan_prompt": "Scan or type a code; qty*code, e.g. 3*6901234567892; Enter",
    "offline": "Store server unreachable: the basket is kept, retrying",
    "offline_commit": "Store server unreachable: the sale is kept and sent again with the same id",
    "change_due": "Change ¥{amount}",
    "next_sale": "Enter: next sale",
}


# The server's reasons (ErrorDetail.reason) a cashier meets, in words. A reason
# not listed here is shown in the server's own sentence.
REASONS_ZH: dict[str, str] = {
    "BAD_CREDENTIALS": "工号或密码不对",
    "PIN_LOCKED": "密码错误次数过多，工号已锁定，请稍后再试",
    "UNKNOWN_BARCODE": "条码不存在：请检查或手工输入",
    "UNKNOWN_PLU": "PLU 编号不存在",
    "UNKNOWN_PRODUCT": "商品不存在",
    "BAD_CHECK_DIGIT": "条码校验位不对：请重新扫描",
    "NOT_WEIGHED": "该商品不是称重商品",
    "NO_SHIFT": "本机没有开班：请先开班",
    "SHIFT_OPEN": "本机已有未交班的班次",
    "DAY_CLOSED": "营业日已日结",
    "EMPTY_BASKET": "购物篮是空的",
    "BASKET_TOTALLED": "已合计：请先按 Esc 回退再修改",
    "BASKET_NOT_OPEN": "这个购物篮已结束",
    "UNDERPAID": "付款不足",
    "OVERPAID_NON_CASH": "非现金支付不能超过应付金额",
    "UNKNOWN_MEMBER": "会员不存在",
    "UNKNOWN_CARD": "会员卡不存在",
    "BAD_MEMBER_PIN": "会员密码不对",
    "MEMBER_PIN_LOCKED": "会员密码错误次数过多，已锁定 15 分钟",
    "CARD_LOST": "此卡已挂失",
    "MEMBER_INACTIVE": "会员已停用",
    "QR_EXPIRED": "会员码已过期：请刷新后再扫",
    "QR_FORGED": "会员码无效",
    "NO_MEMBER": "请先登记会员",
    "INSUFFICIENT_BALANCE": "储值余额不足",
    "INSUFFICIENT_POINTS": "积分不足",
    "POINTS_FRACTION": "积分抵现金额须为整积分",
    "MISSING_PERMISSION": "没有权限：需要主管授权",
    "NEEDS_OVERRIDE": "需要主管授权",
    "TOKEN_EXPIRED": "登录已过期：请重新登录",
}

# Fields a refused input names (ErrorDetail.field), for refusals without a reason above.
FIELDS_ZH: dict[str, str] = {
    "pin": "密码须为 4 到 8 位数字",
    "code": "条码格式不对",
    "quantity_milli": "数量不对：称重商品输入公斤数，其他商品输入整数",
    "float": "备用金金额不对",
}


class Texts:
    """Looks up and fills a UI text in the chosen language."""

    def __init__(self, language: str = "zh") -> None:
        self.table = EN if language == "en" else ZH

    def __call__(self, key: str, **values: object) -> str:
        return self.table[key].format(**values)

    def reason(self, reason: str, server_message: str, field: str = "") -> str:
        """A refusal in the cashier's language; the server's sentence when unlisted."""
        if self.table is ZH and reason in REASONS_ZH:
            return REASONS_ZH[reason]
        if self.table is ZH and field in FIELDS_ZH:
            return FIELDS_ZH[field]
        return server_message

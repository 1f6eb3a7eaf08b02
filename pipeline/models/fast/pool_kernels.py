"""Max pooling as two Triton kernels: forward keeps a one-byte argmax, backward gathers.

PyTorch's max pool writes a 64-bit argmax index per output and, backward,
scatters gradients into a zero-filled input gradient. Here the forward pass
stores the maximum's position inside its window (0..KH*KW-1) in one byte, and
the backward pass visits each input pixel once and sums the gradients of the
windows whose maximum it was: every tensor is read or written once, with no
zero fill and no atomics. Ties and NaNs resolve as in PyTorch (the first
maximum in row-major window order; a NaN wins), so results are identical.

Strides are passed explicitly, so any layout works; channels_last makes the
channel axis, which each program walks in a block, contiguous. Runs on CUDA,
or on the CPU under Triton's interpreter (TRITON_INTERPRET=1), which the tests use.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import triton
import triton.language as tl
from torch.nn.modules.utils import _pair

BLOCK_ELEMENTS = 2048  # pixels x channels per program
MAX_BLOCK_C = 128


@dataclass(frozen=True)
class Window:
    """A 2-D max pool's geometry (dilation 1), as nn.MaxPool2d has it."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    ceil_mode: bool

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """PyTorch's output size rule, ceil_mode's last-window rule included."""

        def side(length, k, s, p):
            out = (length + 2 * p - k + (s - 1 if self.ceil_mode else 0)) // s + 1
            if self.ceil_mode and (out - 1) * s >= length + p:
                out -= 1
            return out

        return (side(height, self.kernel[0], self.stride[0], self.padding[0]),
                side(width, self.kernel[1], self.stride[1], self.padding[1]))


@triton.jit
def _program_block(pixels, C, rows, cols, BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr):
    """This program's pixels of a (pixels / (rows * cols), rows, cols) grid, as image, row and
    column, its channels, and which of both exist."""
    p = tl.program_id(0) * BLOCK_P + tl.arange(0, BLOCK_P)
    c = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    return (p // (cols * rows)).to(tl.int64), (p // cols) % rows, p % cols, c, p < pixels, c < C


@triton.jit
def _forward_kernel(
    x_ptr, y_ptr, arg_ptr, pixels, C, H, W, OH, OW,
    sx_n, sx_c, sx_h, sx_w, sy_n, sy_c, sy_h, sy_w,
    KH: tl.constexpr, KW: tl.constexpr, SH: tl.constexpr, SW: tl.constexpr,
    PH: tl.constexpr, PW: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr,
):
    n, oh, ow, c, p_ok, c_ok = _program_block(pixels, C, OH, OW, BLOCK_P, BLOCK_C)
    best = tl.full((BLOCK_P, BLOCK_C), float("-inf"), tl.float32)
    arg = tl.zeros((BLOCK_P, BLOCK_C), tl.int32)
    for kh in tl.static_range(KH):
        ih = oh * SH - PH + kh
        for kw in tl.static_range(KW):
            iw = ow * SW - PW + kw
            inside = p_ok & (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
            offset = n * sx_n + ih * sx_h + iw * sx_w
            value = tl.load(x_ptr + offset[:, None] + c[None, :] * sx_c,
                            mask=inside[:, None] & c_ok[None, :], other=float("-inf")).to(tl.float32)
            take = (value > best) | (value != value)
            best = tl.where(take, value, best)
            arg = tl.where(take, kh * KW + kw, arg)
    out = (n * sy_n + oh * sy_h + ow * sy_w)[:, None] + c[None, :] * sy_c
    mask = p_ok[:, None] & c_ok[None, :]
    tl.store(y_ptr + out, best.to(y_ptr.dtype.element_ty), mask=mask)
    tl.store(arg_ptr + out, arg.to(tl.int8), mask=mask)


@triton.jit
def _backward_kernel(
    gy_ptr, arg_ptr, gx_ptr, pixels, C, H, W, OH, OW,
    sg_n, sg_c, sg_h, sg_w, sa_n, sa_c, sa_h, sa_w, sx_n, sx_c, sx_h, sx_w,
    KH: tl.constexpr, KW: tl.constexpr, SH: tl.constexpr, SW: tl.constexpr,
    PH: tl.constexpr, PW: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr,
):
    n, ih, iw, c, p_ok, c_ok = _program_block(pixels, C, H, W, BLOCK_P, BLOCK_C)
    total = tl.zeros((BLOCK_P, BLOCK_C), tl.float32)
    for kh in tl.static_range(KH):
        rows = ih + PH - kh  # = oh * SH when this pixel is row kh of window row oh
        oh = tl.where(rows >= 0, rows, 0) // SH
        row_ok = (rows >= 0) & (rows % SH == 0) & (oh < OH)
        for kw in tl.static_range(KW):
            cols = iw + PW - kw
            ow = tl.where(cols >= 0, cols, 0) // SW
            ok = (p_ok & row_ok & (cols >= 0) & (cols % SW == 0) & (ow < OW))[:, None] & c_ok[None, :]
            arg = tl.load(arg_ptr + (n * sa_n + oh * sa_h + ow * sa_w)[:, None] + c[None, :] * sa_c,
                          mask=ok, other=-1)
            hit = ok & (arg == kh * KW + kw)
            grad = tl.load(gy_ptr + (n * sg_n + oh * sg_h + ow * sg_w)[:, None] + c[None, :] * sg_c,
                           mask=hit, other=0.0)
            total += grad.to(tl.float32)
    out = (n * sx_n + ih * sx_h + iw * sx_w)[:, None] + c[None, :] * sx_c
    tl.store(gx_ptr + out, total.to(gx_ptr.dtype.element_ty), mask=p_ok[:, None] & c_ok[None, :])


def _layout(x: torch.Tensor) -> torch.memory_format:
    channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    return torch.channels_last if channels_last else torch.contiguous_format


def _blocks(pixels: int, channels: int) -> tuple[int, int, tuple[int, int]]:
    block_c = min(MAX_BLOCK_C, triton.next_power_of_2(channels))
    block_p = BLOCK_ELEMENTS // block_c
    return block_p, block_c, (triton.cdiv(pixels, block_p), triton.cdiv(channels, block_c))


def _on_device_of(t: torch.Tensor):
    """Triton launches on the current CUDA device: make it the tensor's (a render may run on cuda:1)."""
    return torch.cuda.device(t.device) if t.is_cuda else contextlib.nullcontext()


def _geometry(window: Window) -> dict:
    (kh, kw), (sh, sw), (ph, pw) = window.kernel, window.stride, window.padding
    return dict(KH=kh, KW=kw, SH=sh, SW=sw, PH=ph, PW=pw)


def pool_forward(x: torch.Tensor, window: Window) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C, H, W) -> maxima and their one-byte window positions, in x's layout."""
    n, c, h, w = x.shape
    oh, ow = window.output_size(h, w)
    layout = _layout(x)
    y = torch.empty((n, c, oh, ow), dtype=x.dtype, device=x.device, memory_format=layout)
    arg = torch.empty((n, c, oh, ow), dtype=torch.int8, device=x.device, memory_format=layout)
    pixels = n * oh * ow
    block_p, block_c, grid = _blocks(pixels, c)
    with _on_device_of(x):
        _forward_kernel[grid](x, y, arg, pixels, c, h, w, oh, ow, *x.stride(), *y.stride(),
                              **_geometry(window), BLOCK_P=block_p, BLOCK_C=block_c)
    return y, arg


def pool_backward(grad_y: torch.Tensor, arg: torch.Tensor, window: Window, input_size, layout) -> torch.Tensor:
    """The input gradient: each input pixel sums the gradients of the windows it won."""
    n, c, h, w = input_size
    oh, ow = arg.shape[2:]
    grad_x = torch.empty(input_size, dtype=grad_y.dtype, device=grad_y.device, memory_format=layout)
    pixels = n * h * w
    block_p, block_c, grid = _blocks(pixels, c)
    with _on_device_of(grad_y):
        _backward_kernel[grid](grad_y, arg, grad_x, pixels, c, h, w, oh, ow,
                               *grad_y.stride(), *arg.stride(), *grad_x.stride(),
                               **_geometry(window), BLOCK_P=block_p, BLOCK_C=block_c)
    return grad_x


class _FusedMaxPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, window):
        y, arg = pool_forward(x, window)
        ctx.save_for_backward(arg)
        ctx.window, ctx.input_size, ctx.layout = window, x.shape, _layout(x)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (arg,) = ctx.saved_tensors
        return pool_backward(grad_y, arg, ctx.window, ctx.input_size, ctx.layout), None


def fused_max_pool(x: torch.Tensor, window: Window) -> torch.Tensor:
    """Max pool of (N, C, H, W) x, differentiable, equal to F.max_pool2d with the same window."""
    return _FusedMaxPool.apply(x, window)


def window_of(pool: torch.nn.MaxPool2d) -> Window | None:
    """The pool's window, or None when these kernels don't cover it."""
    kernel = _pair(pool.kernel_size)
    if _pair(pool.dilation) != (1, 1) or pool.return_indices or kernel[0] * kernel[1] > 127:
        return None  # the window position must fit in one signed byte
    return Window(kernel, _pair(pool.stride), _pair(pool.padding), bool(pool.ceil_mode))


class FusedMaxPool(torch.nn.Module):
    """fused_max_pool as a layer, in place of an nn.MaxPool2d of the same window."""

    def __init__(self, window: Window):
        super().__init__()
        self.window = window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_max_pool(x, self.window)

"""Convolutions that read the same tensor, merged into one (an inception block's branch heads).

An inception block starts three or four branches from its input, most with
a 1x1 convolution and a ReLU. Computed as one convolution with all their
output channels, then one ReLU and a split, the block reads its input once
instead of three times and runs fewer operations, forward and backward (a
GoogLeNet step up to inception4c: 133 instead of 178), which is what bounds
the small octaves, whose steps are short. The block is traced with torch.fx
and rewritten; anything that cannot be traced is left alone.
"""

from __future__ import annotations

import operator

import torch
import torch.nn.functional as F
from torch import fx, nn


def _geometry(conv: nn.Conv2d) -> tuple:
    return (conv.kernel_size, conv.stride, conv.padding, conv.dilation, conv.groups, conv.padding_mode,
            conv.bias is not None, conv.weight.dtype)


def _relu_after(node: fx.Node, modules: dict) -> fx.Node | None:
    """The ReLU that is this node's only user, if it is."""
    if len(node.users) != 1:
        return None
    (user,) = node.users
    if user.op == "call_module" and isinstance(modules[user.target], nn.ReLU):
        return user
    if user.op == "call_function" and user.target in (F.relu, torch.relu, torch.relu_):
        return user
    return None


def _sibling_groups(graph: fx.Graph, modules: dict) -> list[list[tuple[fx.Node, fx.Node]]]:
    """Groups of (conv node, its ReLU node): plain convolutions of one tensor, alike in geometry."""
    groups = []
    for node in graph.nodes:
        alike: dict[tuple, list] = {}
        for user in node.users:
            conv = modules.get(user.target) if user.op == "call_module" else None
            if type(conv) is nn.Conv2d and conv.groups == 1 and user.args == (node,) and not user.kwargs:
                relu = _relu_after(user, modules)
                if relu is not None:
                    alike.setdefault(_geometry(conv), []).append((user, relu))
        groups += [members for members in alike.values() if len(members) > 1]
    return groups


def merge_sibling_convs(block: nn.Module) -> fx.GraphModule | None:
    """`block` with each group of sibling convolutions (same input and geometry, each followed by
    a ReLU) computed as one; None when there is no such group or the block cannot be traced."""
    try:
        traced = fx.symbolic_trace(block)
    except Exception:  # data-dependent Python: not a block this rewrite is for
        return None
    modules = dict(traced.named_modules())
    for node in list(traced.graph.nodes):  # folded batch norms: drop them so convs meet their ReLUs
        if node.op == "call_module" and isinstance(modules[node.target], nn.Identity):
            node.replace_all_uses_with(node.args[0])
            traced.graph.erase_node(node)
    groups = _sibling_groups(traced.graph, modules)
    if not groups:
        return None
    order = {node: index for index, node in enumerate(traced.graph.nodes)}
    for number, members in enumerate(groups):
        convs = [modules[conv.target] for conv, _ in members]
        merged = nn.Conv2d(convs[0].in_channels, sum(c.out_channels for c in convs), convs[0].kernel_size,
                           convs[0].stride, convs[0].padding, convs[0].dilation, bias=convs[0].bias is not None,
                           padding_mode=convs[0].padding_mode,
                           device=convs[0].weight.device, dtype=convs[0].weight.dtype)
        with torch.no_grad():
            merged.weight.copy_(torch.cat([c.weight for c in convs]))
            if merged.bias is not None:
                merged.bias.copy_(torch.cat([c.bias for c in convs]))
        name = f"merged_{number}"
        traced.add_submodule(name, merged)
        first = min((conv for conv, _ in members), key=order.__getitem__)
        with traced.graph.inserting_before(first):
            out = traced.graph.call_function(F.relu, (traced.graph.call_module(name, first.args),))
            parts = traced.graph.call_function(torch.split, (out, [c.out_channels for c in convs], 1))
            for index, (_, relu) in enumerate(members):
                relu.replace_all_uses_with(traced.graph.call_function(operator.getitem, (parts, index)))
        for conv, relu in members:
            traced.graph.erase_node(relu)
            traced.graph.erase_node(conv)
    traced.graph.lint()
    traced.delete_all_unused_submodules()
    traced.recompile()
    return traced

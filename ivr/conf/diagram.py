"""The menu as a picture for the admin page: each node a box with what its prompts say,
each key an arrow to a node or to where the caller leaves the menu (an operator, a unit,
an emergency line, the ticket lookup, a message). Graphviz lays it out (`dot`, Debian's
graphviz); the labels are Chinese, as the admin reads them."""

from __future__ import annotations

import graphviz

from ivr.menu.tree import Destination, MenuTree
from tickets.codes import KINDS

FONT = "WenQuanYi Micro Hei"  # fonts-wqy-microhei: CJK glyphs in the SVG's text
PROMPT_CHARS = 54  # a prompt's text is cut to this in its node's box,
LINE_CHARS = 18  # in lines this long


def menu_graph(tree: MenuTree, prompt_texts: dict[str, str]) -> graphviz.Digraph:
    """Pure: the graph, not yet rendered. prompt_texts: the catalog with the menu's own."""
    graph = graphviz.Digraph("menu", graph_attr={"rankdir": "LR", "fontname": FONT},
                             node_attr={"fontname": FONT, "shape": "box", "style": "rounded",
                                        "fontsize": "11"},
                             edge_attr={"fontname": FONT, "fontsize": "10"})
    graph.node("call", "来电 12345", shape="oval")
    graph.edge("call", _node_id(tree.start),
               label="欢迎语" if tree.welcome else "")
    for node in tree.nodes.values():
        said = " ".join(prompt_texts.get(p, p) for p in node.prompts)
        if len(said) > PROMPT_CHARS:
            said = said[:PROMPT_CHARS] + "…"
        lines = "\n".join(said[at:at + LINE_CHARS] for at in range(0, len(said), LINE_CHARS))
        graph.node(_node_id(node.name), f"{node.name}\n{lines}")
        graph.edge(_node_id(node.name), "fail", label=f"输错或超时{node.max_failures}次",
                   style="dashed")
        for key, destination in node.keys.items():
            target = _target(node.name, key, destination, graph)
            label = f"按{key}" + (f"（说：{'/'.join(destination.phrases)}）"
                                  if destination.phrases else "")
            graph.edge(_node_id(node.name), target, label=label)
    graph.node("fail", f"人工（{tree.operator}）", shape="oval", style="dashed")
    return graph


def _target(node: str, key: str, d: Destination, graph: graphviz.Digraph) -> str:
    if d.kind == "menu":
        return _node_id(d.target)
    if d.kind == "repeat":
        return _node_id(node)
    leave = f"leave_{len(graph.body)}"
    if d.kind == "back":
        text = "返回上一级"
    elif d.kind == "queue":
        text = f"人工（{d.target}）" + (f"\n{KINDS.get(d.request_kind, d.request_kind)}"
                                      if d.request_kind else "")
    elif d.kind == "unit":
        text = f"转单位 {d.target}"
    elif d.kind == "emergency":
        text = f"联动转接 {d.target}"
    elif d.kind == "lookup":
        text = "查询工单进度"
    else:
        text = "留言"
    graph.node(leave, text, shape="oval")
    return leave


def _node_id(name: str) -> str:
    # Quoted by the library; no ':' in it, which Graphviz would read as a port.
    return "node_" + name.replace(":", "_")


def menu_svg(tree: MenuTree, prompt_texts: dict[str, str]) -> str:
    """The picture as SVG text (blocking: runs `dot`; call it from a worker)."""
    return menu_graph(tree, prompt_texts).pipe(format="svg", encoding="utf-8")

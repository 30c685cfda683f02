"""The explorer's screen: layers on the left, the file tree at the selected layer on the right.

The tree is lazy: a directory's children are made into widgets only when it is expanded, so an
image of 100,000 files opens as fast as one of ten. Marks carry a symbol as well as a colour, so
they read on a terminal without colour (and in the SVG screenshots).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static, Tree
from textual.widgets.tree import TreeNode

from trimdock.report.escaping import safe_terminal
from trimdock.report.units import human_bytes
from trimdock.ui.model import Directory, ExploreModel, FileState, Mark, View

SYMBOLS = {Mark.ADDED: "+", Mark.MODIFIED: "~", Mark.REMOVED: "-", Mark.NONE: " "}
STYLES = {Mark.ADDED: "green", Mark.MODIFIED: "yellow", Mark.REMOVED: "red strike"}
WASTE_SYMBOL = "!"
RECLAIM_SYMBOL = "$"
RECLAIM_STYLE = "bold dark_orange"
# Children shown under one directory; the rest are summed on one line (a directory of 50,000
# files must not make 50,000 widgets).
MAX_CHILDREN = 500
# Directories at least this share of what the view shows open by themselves.
OPEN_SHARE = 0.15
OPEN_DEPTH = 4
# The reclaimable view shows few files, spread out: its directories open more readily.
RECLAIM_OPEN_SHARE = 0.01
RECLAIM_OPEN_DEPTH = 8

HELP = f"""\
[b]trimdock explore[/b]: the layers of an image and its files at any layer

[b]Keys[/b]
  up/down, j/k   choose a layer (left) or move in the tree (right)
  tab            switch between the layers and the tree
  enter/space    open or close a directory
  c              only what this layer changed
  w              only waste: bytes shipped, then hidden by a later layer
  r              only reclaimable content (again: one category after the other)
  a              everything (leave the filters)
  /              search paths (enter applies, escape clears)
  s              sort by size or by name
  ?              this help;  q  quit

[b]Marks[/b]
  [green]+[/green] added by this layer
  [yellow]~[/yellow] modified: replaces an earlier version
  [red]-[/red] removed by this layer
  [red]{WASTE_SYMBOL}[/red] wasted: a later layer hides these bytes
  [{RECLAIM_STYLE}]{RECLAIM_SYMBOL}[/{RECLAIM_STYLE}] reclaimable (its category named)
  In the waste view each file says which layer shipped it and which hid it (and how).
  Sizes are the bytes the view counts below each directory."""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Static { width: 90; max-width: 95%; border: round $accent; padding: 1 2;
                          background: $panel; }
    """

    def compose(self) -> ComposeResult:
        yield Static(HELP, id="help")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


class ExploreApp(App[None]):
    TITLE = "trimdock explore"
    CSS = """
    #summary { height: 1; padding: 0 1; background: $boost; }
    #left { width: 42%; min-width: 40; }
    #layers { height: 1fr; }
    #instruction-box { height: auto; max-height: 12; border-top: solid $primary; }
    #instruction { padding: 0 1; }
    #right { width: 1fr; border-left: solid $primary; }
    #search { display: none; }
    #search.shown { display: block; }
    #files { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "view('changes')", "changes"),
        Binding("w", "view('waste')", "waste"),
        Binding("r", "reclaim", "reclaimable"),
        Binding("a", "view('all')", "all"),
        Binding("slash", "search", "search"),
        Binding("s", "sort", "sort"),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
    ]

    def __init__(self, model: ExploreModel) -> None:
        super().__init__()
        self.model = model
        self.layer = len(model.layers) - 1
        self.view = View.ALL
        self.search = ""
        self.by_size = True
        self.category = ""  # the reclaim category shown ("": all of them)
        self.opened: set[str] = set()  # directories the user opened, kept across layers

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="summary")
        with Horizontal():
            with Vertical(id="left"):
                yield DataTable(id="layers", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="instruction-box"):
                    yield Static(id="instruction")
            with Vertical(id="right"):
                yield Input(placeholder="path contains… (enter: apply, escape: clear)", id="search")
                yield Tree("/", id="files")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#layers", DataTable)
        table.add_column("#", key="index")
        table.add_column("size", key="size")
        table.add_column("wasted", key="wasted")
        table.add_column("instruction", key="instruction")
        for layer in self.model.layers:
            wasted = layer.figures.wasted
            table.add_row(
                Text(str(layer.index), justify="right"),
                Text(human_bytes(layer.figures.size), justify="right"),
                Text(human_bytes(wasted), style="red" if wasted else "", justify="right"),
                Text(
                    safe_terminal(" ".join(layer.instruction.split()) or "(no instruction)"),
                    no_wrap=True,
                ),
                key=str(layer.index),
            )
        table.move_cursor(row=self.layer)
        table.focus()
        self.refresh_files()

    # -- events -------------------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Highlights queue up (the table's first row is highlighted before the cursor moves
        # to the last layer): only the one where the cursor is now counts.
        if event.cursor_row == event.data_table.cursor_row != self.layer:
            self.layer = event.cursor_row
            self.refresh_files()

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Directory | FileState | None]) -> None:
        node = event.node
        if isinstance(node.data, Directory):
            self.opened.add(node.data.path)
            self._populate(node, node.data)

    def on_tree_node_collapsed(
        self, event: Tree.NodeCollapsed[Directory | FileState | None]
    ) -> None:
        if isinstance(event.node.data, Directory):
            self.opened.discard(event.node.data.path)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.search = event.value.strip()
        self.query_one("#files", Tree).focus()
        self.refresh_files()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        search = self.query_one("#search", Input)
        if key == "escape" and search.has_class("shown"):
            search.value = ""
            search.remove_class("shown")
            self.search = ""
            self.query_one("#files", Tree).focus()
            self.refresh_files()

    # -- actions ------------------------------------------------------------------------------

    def action_view(self, name: str) -> None:
        self.view = View(name)
        self.category = ""
        self.refresh_files()

    def action_reclaim(self) -> None:
        """Into the reclaimable view; pressed again, one category after the other, then all."""
        names = [c.category for c in self.model.reclaim.categories()] if self.model.reclaim else []
        if self.view is not View.RECLAIM:
            self.view, self.category = View.RECLAIM, ""
        elif names:
            at = names.index(self.category) + 1 if self.category in names else 0
            self.category = names[at] if at < len(names) else ""
        self.refresh_files()

    def action_sort(self) -> None:
        self.by_size = not self.by_size
        self.refresh_files()

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.add_class("shown")
        search.focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_cursor_down(self) -> None:
        focused = self.focused
        if isinstance(focused, DataTable | Tree):
            focused.action_cursor_down()

    def action_cursor_up(self) -> None:
        focused = self.focused
        if isinstance(focused, DataTable | Tree):
            focused.action_cursor_up()

    # -- the tree -----------------------------------------------------------------------------

    def refresh_files(self) -> None:
        model, layer, view = self.model, self.layer, self.view
        info = model.layers[layer]
        root_figures = model.figures(model.root, layer, view, self.search, self.category)
        self._show_layer(info.index)
        tree = self.query_one("#files", Tree)
        tree.clear()
        tree.root.data = model.root
        tree.root.set_label(self._dir_label("/", root_figures.bytes, root_figures.wasted))
        self._populate(tree.root, model.root)
        tree.root.expand()
        what = {
            View.ALL: "filesystem",
            View.CHANGES: "changes of this layer",
            View.WASTE: "waste shipped so far",
            View.RECLAIM: "reclaimable"
            + (f" ({self._label(self.category)})" if self.category else ""),
        }[view]
        found = f" matching {self.search!r}" if self.search else ""
        removed = root_figures.shown - root_figures.files - root_figures.empty
        self.query_one("#summary", Static).update(
            Text.assemble(
                (safe_terminal(model.reference), "bold"),
                f"  layer {layer} of {len(model.layers) - 1} · {what}{found}: ",
                (human_bytes(root_figures.bytes), "bold"),
                f" in {root_figures.files} files",
                (f", {removed} removed here" if view is View.ALL and removed > 0 else ""),
                (
                    ""
                    if view in (View.WASTE, View.RECLAIM)
                    else f", {human_bytes(root_figures.wasted)} wasted"
                ),
                f" · sorted by {'size' if self.by_size else 'name'}",
            )
        )

    def _label(self, category: str) -> str:
        for total in self.model.reclaim.categories() if self.model.reclaim else ():
            if total.category == category:
                return total.label
        return category

    def _show_layer(self, index: int) -> None:
        if self.view is View.RECLAIM:
            self._show_categories()
            return
        layer = self.model.layers[index]
        figures = layer.figures
        text = Text()
        text.append(f"Layer {index}", style="bold")
        text.append(
            f"  {human_bytes(figures.size)}, +{figures.files_added} ~{figures.files_modified} "
            f"-{figures.files_deleted} files, wasted {human_bytes(figures.wasted)}, "
            f"hides {human_bytes(figures.hidden)}\n"
        )
        text.append(safe_terminal(layer.instruction or "(no instruction recorded)"))
        self.query_one("#instruction", Static).update(text)

    def _show_categories(self) -> None:
        """The reclaim analysis' categories (as `trimdock layers` lists them), the one shown
        marked; where the instruction goes in the other views."""
        report = self.model.reclaim
        text = Text()
        if report is None or not report.items:
            text.append("Nothing reclaimable found.", style="bold")
            self.query_one("#instruction", Static).update(text)
            return
        text.append(f"Reclaimable {human_bytes(report.total)}", style="bold")
        text.append(
            f" ({human_bytes(report.certain)} certain, {human_bytes(report.likely)} likely)"
            "  r: next category\n"
        )
        for total in report.categories():
            chosen = total.category == self.category
            text.append("> " if chosen else "  ", style=RECLAIM_STYLE)
            text.append(f"{human_bytes(total.bytes):>9} ", style="bold" if chosen else "")
            text.append(f"{RECLAIM_SYMBOL} ", style=RECLAIM_STYLE)
            text.append(f"{total.label} ", style="bold" if chosen else "")
            text.append(
                f"[{total.category}, {total.confidence}, {total.files} files]\n", style="dim"
            )
            text.append(f"      fix: {total.practice}", style="dim")
            if total.rules:
                text.append(f" ({', '.join(total.rules)})", style="dim")
            text.append("\n")
        self.query_one("#instruction", Static).update(text)

    def _populate(self, node: TreeNode[Directory | FileState | None], directory: Directory) -> None:
        if node.children:
            return  # already made (lazy: once per expansion of a fresh tree)
        model, layer, view, search = self.model, self.layer, self.view, self.search
        category = self.category
        dirs = list(model.subdirectories(directory, layer, view, search, category))
        files = list(model.files(directory, layer, view, search, category))
        entries: list[tuple[int, str, Directory | FileState]] = [
            (figures.bytes, child.name, child) for child, figures in dirs
        ]
        entries.extend((state.bytes, state.name, state) for state in files)
        if self.by_size:
            entries.sort(key=lambda e: (-e[0], e[1]))
        else:
            entries.sort(key=lambda e: e[1])
        depth = directory.path.count("/") + 1 if directory.path else 0
        total = max(model.figures(model.root, layer, view, search, category).bytes, 1)
        reclaiming = view is View.RECLAIM
        share = RECLAIM_OPEN_SHARE if reclaiming else OPEN_SHARE
        max_depth = RECLAIM_OPEN_DEPTH if reclaiming else OPEN_DEPTH
        for _, _, item in entries[:MAX_CHILDREN]:
            if isinstance(item, Directory):
                figures = model.figures(item, layer, view, search, category)
                if figures.bare:
                    node.add_leaf(self._empty_label(item.name, figures.changed), data=item)
                    continue
                child = node.add(
                    self._dir_label(item.name, figures.bytes, figures.wasted, figures.changed),
                    data=item,
                )
                if item.path in self.opened or (
                    depth < max_depth and figures.bytes >= share * total
                ):
                    self._populate(child, item)
                    child.expand()
            else:
                node.add_leaf(self._file_label(item), data=item)
        rest = entries[MAX_CHILDREN:]
        if rest:
            size = sum(e[0] for e in rest)
            node.add_leaf(Text(f"… {len(rest)} more ({human_bytes(size)})", style="dim"))

    def _dir_label(self, name: str, size: int, wasted: int, changed: int = 0) -> Text:
        label = Text()
        label.append(f"{human_bytes(size):>9} ", style="bold")
        label.append(safe_terminal(name) + ("/" if name != "/" else ""), style="bold blue")
        if changed and self.view is not View.WASTE:
            label.append(f"  {changed} changed", style="dim")
        if wasted and self.view is View.ALL:
            label.append(f"  {WASTE_SYMBOL}{human_bytes(wasted)} wasted", style="red")
        return label

    def _empty_label(self, name: str, changed: int) -> Text:
        label = Text()
        label.append(f"{human_bytes(0):>9} ")
        label.append(SYMBOLS[Mark.ADDED] if changed else " ", style=STYLES[Mark.ADDED])
        label.append("  ")
        label.append(safe_terminal(name) + "/", style="bold blue")
        label.append("  (empty)", style="dim")
        return label

    def _file_label(self, state: FileState) -> Text:
        label = Text()
        version = state.version
        label.append(f"{human_bytes(state.bytes):>9} ")
        mark = state.mark
        label.append(SYMBOLS[mark], style=STYLES.get(mark, ""))
        if state.category:
            label.append(RECLAIM_SYMBOL, style=RECLAIM_STYLE)
        else:
            label.append(WASTE_SYMBOL if state.wasted else " ", style="red")
        label.append(" ")
        name = safe_terminal(state.name)
        style = STYLES.get(mark, "red" if state.wasted else "")
        label.append(name, style=RECLAIM_STYLE if state.category else style)
        if version.type not in ("file", "hardlink"):
            label.append(f" ({version.type})", style="dim")
        if state.category:
            label.append(f"  {RECLAIM_SYMBOL} {state.category}", style=RECLAIM_STYLE)
        if self.view is View.WASTE or (state.wasted and mark is not Mark.REMOVED):
            label.append(
                f"  shipped by #{version.shipped_in}, {version.why} by #{version.hidden_by}",
                style="dim",
            )
        return label

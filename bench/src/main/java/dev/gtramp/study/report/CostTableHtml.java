package dev.gtramp.study.report;

import dev.gtramp.study.CostModel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.gtramp.study.report.Html.escape;
import static dev.gtramp.study.report.Html.num;
import static dev.gtramp.study.report.Html.raw;

/**
 * The HTML report's cost-table section: the table's name, version and description, every event's
 * unit cost with its uncertainty, whether it was fitted and its source, the tools' start-up
 * costs, and the eras with the events they price as others or charge on top.
 */
final class CostTableHtml {
    private CostTableHtml() {
    }

    static void append(Html h, CostModel.Table t) {
        h.markup("<section id=\"cost-model\">\n").element("h2", "Cost table");
        if (t == null) {
            h.p("The result records no cost table.").markup("</section>\n");
            return;
        }
        h.p(t.name() + ", version " + t.version() + ". " + (t.description() == null ? "" : t.description()));
        h.p("Unit costs on the table's kernel. Uncertainty: a factor f, the true cost believed to lie within "
                + "[unit / f, unit × f]. An event without an entry of its own is priced by its family's (alloc.*, free.*).");
        List<List<?>> events = new ArrayList<>();
        for (CostModel.EventCost e : t.events() == null ? List.<CostModel.EventCost>of() : t.events()) {
            events.add(Html.cells(raw("<code>" + escape(e.event()) + "</code>"), num(e.unitNs() == null ? "–" : Fmt.sig(e.unitNs())),
                    num(factor(e.uncertainty())), yesNo(e.fitted()), Html.linked(e.source())));
        }
        h.table("events", List.of("event", "unit (ns)", "uncertainty", "fitted", "source"), events);
        List<CostModel.ToolCost> tools = t.tools() == null ? List.of() : t.tools();
        if (!tools.isEmpty()) {
            h.element("h3", "Tool start-up");
            List<List<?>> cells = new ArrayList<>();
            for (CostModel.ToolCost c : tools) {
                cells.add(Html.cells(c.tool(), num(c.startupNs() == null ? "–" : Fmt.seconds(c.startupNs() / 1e9)),
                        num(factor(c.uncertainty())), yesNo(c.fitted()), Html.linked(c.source())));
            }
            h.table("tools", List.of("tool", "start-up", "uncertainty", "fitted", "source"), cells);
        }
        List<CostModel.Era> eras = t.eras() == null ? List.of() : t.eras();
        if (!eras.isEmpty()) {
            h.element("h3", "Eras");
            h.p("Published numbers measured on older kernels price some events as others (priced as), or pay another event's "
                    + "unit cost on top of their own (also pays).");
            List<List<?>> cells = new ArrayList<>();
            for (CostModel.Era e : eras) {
                String priceAs = pairs(e.priceAs(), "priced as");
                String alsoPays = pairs(e.alsoPays(), "also pays");
                cells.add(Html.cells(e.era(), e.description(),
                        raw(priceAs.isEmpty() && alsoPays.isEmpty() ? "–" : "<ul>" + priceAs + alsoPays + "</ul>")));
            }
            h.table("eras", List.of("era", "description", "priced differently"), cells);
        }
        h.markup("</section>\n");
    }

    /** {@code <li>from verb to</li>} per entry, sorted; empty for null or no entry. */
    private static String pairs(Map<String, String> m, String verb) {
        if (m == null) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        new TreeMap<>(m).forEach((from, to) -> b.append("<li><code>").append(escape(from)).append("</code> ")
                .append(escape(verb)).append(" <code>").append(escape(to)).append("</code></li>"));
        return b.toString();
    }

    private static String factor(Double f) {
        return f == null ? "–" : "×" + Fmt.sig(f);
    }

    private static String yesNo(Boolean b) {
        return b == null ? "–" : b ? "fitted" : "no";
    }
}

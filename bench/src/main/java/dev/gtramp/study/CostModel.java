package dev.gtramp.study;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cost table: what one counted event costs on a real x86-64 kernel, with its source and its
 * uncertainty, and the published numbers to set projections beside. The projected kernel time of
 * a phase is the sum over its counted events of count times unit cost; an event's cost is its own
 * entry's, else the entry of its family ({@code alloc.*}, {@code free.*}). A published number
 * measured on an older kernel names an {@link Era} whose {@code priceAs} prices an event as another
 * (6.18's {@code register_ftrace_direct} queues {@code call_rcu_tasks} where kernels before 6.10
 * waited {@code synchronize_rcu_tasks}) and whose {@code alsoPays} adds another event's cost to an
 * event (before kernel-patches/bpf PR #13691 every trampoline image build also allocated and freed
 * a scratch image). A published number of a tool's whole run adds the tool's
 * start-up.
 */
public final class CostModel {
    /** The committed table the study uses unless {@code --cost-model} names another. */
    public static final String DEFAULT_RESOURCE = "/cost-model/linux-6.18-x86_64.json";

    /**
     * The cost table as committed (JSON).
     *
     * @param name        the kernel the costs are for
     * @param version     the table's version: bumped whenever a unit cost changes
     * @param description how the costs were chosen and which were fitted
     * @param events      unit costs of counted events
     * @param tools       start-up costs of tools whose whole runs were published
     * @param eras        how older kernels priced events differently
     * @param published   the published numbers
     */
    public record Table(String name, Integer version, String description, List<EventCost> events, List<ToolCost> tools,
                        List<Era> eras, List<Published> published) {
    }

    /**
     * @param event       the counted event, or a family {@code alloc.*}
     * @param unitNs      nanoseconds per event on the table's kernel
     * @param uncertainty a factor: the true unit cost is believed to lie within {@code [unit/f, unit*f]}
     * @param fitted      whether the unit cost was fitted to published numbers (at most two are)
     * @param source      where the number comes from
     */
    public record EventCost(String event, Double unitNs, Double uncertainty, Boolean fitted, String source) {
    }

    /** @param tool the tool; @param startupNs its start-up, once per run; see {@link EventCost} for the rest */
    public record ToolCost(String tool, Double startupNs, Double uncertainty, Boolean fitted, String source) {
    }

    /**
     * @param era         the era's name, as published numbers name it
     * @param description what differed, with the kernel commit
     * @param priceAs     event → the event whose unit cost it has in this era, or null
     * @param alsoPays    event → an event whose unit cost each occurrence also pays in this era, or null
     */
    public record Era(String era, String description, Map<String, String> priceAs, Map<String, String> alsoPays) {
        Map<String, String> priceAsOrEmpty() {
            return priceAs == null ? Map.of() : priceAs;
        }

        Map<String, String> alsoPaysOrEmpty() {
            return alsoPays == null ? Map.of() : alsoPays;
        }
    }

    /**
     * @param id        a short unique name
     * @param what      the scenario, as published
     * @param design    the study design it ran on
     * @param functions functions in the published run
     * @param select    the model's selection: a number of functions, {@code all}, or a glob
     * @param phases    the phases the published time covers: {@code load}, {@code attach}, {@code detach}
     * @param tool      the tool whose start-up the time includes, or null
     * @param era       the era of the kernel it was measured on, or null for the table's kernel
     * @param seconds   the published time
     * @param role      {@code fitted} or {@code held-out}
     * @param source    where it was published
     */
    public record Published(String id, String what, String design, Integer functions, String select, List<String> phases,
                            String tool, String era, Double seconds, String role, String source) {
    }

    private final Table table;
    private final String origin;
    private final Map<String, EventCost> byEvent = new LinkedHashMap<>();
    private final Map<String, ToolCost> byTool = new LinkedHashMap<>();
    private final Map<String, Era> byEra = new LinkedHashMap<>();

    private CostModel(Table table, String origin) {
        this.table = table;
        this.origin = origin;
        validate();
    }

    /** The committed table. */
    public static CostModel committed() {
        try (InputStream in = CostModel.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the committed cost table " + DEFAULT_RESOURCE + " is not on the class path");
            }
            return parse(new InputStreamReader(in, StandardCharsets.UTF_8), DEFAULT_RESOURCE);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Reads a table file.
     *
     * @throws KernelException ENOENT for a missing file, EINVAL naming the field for a malformed one
     */
    public static CostModel read(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(r, file.toString());
        } catch (NoSuchFileException e) {
            throw new KernelException(Errno.ENOENT, "cost table " + file + ": no such file");
        } catch (IOException e) {
            throw new KernelException(Errno.EIO, "cost table " + file + ": " + e.getMessage());
        }
    }

    static CostModel parse(Reader json, String origin) {
        Table t;
        try {
            t = new Gson().fromJson(json, Table.class);
        } catch (JsonParseException e) {
            String why = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
            throw new KernelException(Errno.EINVAL, "cost table " + origin + " is not valid JSON: " + why);
        }
        if (t == null) {
            throw new KernelException(Errno.EINVAL, "cost table " + origin + " is empty");
        }
        return new CostModel(t, origin);
    }

    private KernelException bad(String field, String why) {
        return new KernelException(Errno.EINVAL, "cost table " + origin + ": " + field + " " + why);
    }

    private void validate() {
        require(table.name(), "name");
        require(table.version(), "version");
        require(table.description(), "description");
        require(table.events(), "events");
        for (int i = 0; i < table.events().size(); i++) {
            EventCost e = table.events().get(i);
            String at = "events[" + i + "]";
            if (e == null) {
                throw bad(at, "is null");
            }
            require(e.event(), at + ".event");
            at = at + " (" + e.event() + ")";
            require(e.unitNs(), at + ".unitNs");
            require(e.uncertainty(), at + ".uncertainty");
            require(e.fitted(), at + ".fitted");
            require(e.source(), at + ".source");
            if (e.unitNs() < 0 || e.unitNs().isNaN()) {
                throw bad(at + ".unitNs", "must be a non-negative number, not " + e.unitNs());
            }
            if (e.uncertainty() < 1) {
                throw bad(at + ".uncertainty", "is a factor of at least 1, not " + e.uncertainty());
            }
            if (byEvent.put(e.event(), e) != null) {
                throw bad(at + ".event", "is listed twice");
            }
        }
        for (int i = 0; table.tools() != null && i < table.tools().size(); i++) {
            ToolCost c = table.tools().get(i);
            String at = "tools[" + i + "]";
            require(c, at);
            require(c.tool(), at + ".tool");
            require(c.startupNs(), at + " (" + c.tool() + ").startupNs");
            require(c.uncertainty(), at + " (" + c.tool() + ").uncertainty");
            require(c.fitted(), at + " (" + c.tool() + ").fitted");
            require(c.source(), at + " (" + c.tool() + ").source");
            byTool.put(c.tool(), c);
        }
        for (int i = 0; table.eras() != null && i < table.eras().size(); i++) {
            Era e = table.eras().get(i);
            String at = "eras[" + i + "]";
            require(e, at);
            require(e.era(), at + ".era");
            require(e.description(), at + " (" + e.era() + ").description");
            if (e.priceAs() == null && e.alsoPays() == null) {
                throw bad(at + " (" + e.era() + ")", "has neither priceAs nor alsoPays");
            }
            e.priceAsOrEmpty().forEach((from, to) -> {
                if (unitOf(to) == null) {
                    throw bad("eras (" + e.era() + ").priceAs." + from, "names " + to + ", which has no unit cost");
                }
            });
            e.alsoPaysOrEmpty().forEach((from, to) -> {
                if (unitOf(to) == null) {
                    throw bad("eras (" + e.era() + ").alsoPays." + from, "names " + to + ", which has no unit cost");
                }
            });
            byEra.put(e.era(), e);
        }
        long fitted = table.events().stream().filter(EventCost::fitted).count()
                + byTool.values().stream().filter(ToolCost::fitted).count();
        if (fitted > 2) {
            throw bad("fitted", "is true for " + fitted + " costs; the table may fit at most two free parameters");
        }
        List<Published> pub = table.published() == null ? List.of() : table.published();
        for (int i = 0; i < pub.size(); i++) {
            Published p = pub.get(i);
            String at = "published[" + i + "]";
            require(p, at);
            require(p.id(), at + ".id");
            at = at + " (" + p.id() + ")";
            require(p.what(), at + ".what");
            require(p.design(), at + ".design");
            require(p.functions(), at + ".functions");
            require(p.select(), at + ".select");
            require(p.phases(), at + ".phases");
            require(p.seconds(), at + ".seconds");
            require(p.role(), at + ".role");
            require(p.source(), at + ".source");
            for (String ph : p.phases()) {
                if (!List.of("load", "attach", "detach").contains(ph)) {
                    throw bad(at + ".phases", "has '" + ph + "'; phases are load, attach and detach");
                }
            }
            if (!p.role().equals("fitted") && !p.role().equals("held-out")) {
                throw bad(at + ".role", "is '" + p.role() + "'; roles are fitted and held-out");
            }
            if (p.tool() != null && !byTool.containsKey(p.tool())) {
                throw bad(at + ".tool", "names " + p.tool() + ", which tools[] does not list");
            }
            if (p.era() != null && !byEra.containsKey(p.era())) {
                throw bad(at + ".era", "names " + p.era() + ", which eras[] does not list");
            }
        }
    }

    private void require(Object value, String field) {
        if (value == null) {
            throw bad(field, "is missing");
        }
    }

    public Table table() {
        return table;
    }

    /** Where the table was read from. */
    public String origin() {
        return origin;
    }

    public List<Published> published() {
        return table.published() == null ? List.of() : table.published();
    }

    /** The unit cost of {@code event}: its entry's, else its family's ({@code alloc.*}), else null. */
    Double unitOf(String event) {
        EventCost e = byEvent.get(event);
        if (e == null) {
            int dot = event.indexOf('.');
            e = dot < 0 ? null : byEvent.get(event.substring(0, dot) + ".*");
        }
        return e == null ? null : e.unitNs();
    }

    /**
     * The projected kernel time of {@code events}, seconds per event that costs anything, in the
     * table's kernel or in {@code era}.
     *
     * @throws KernelException EINVAL naming the first event the table gives no cost
     */
    public Map<String, Double> terms(Map<String, Long> events, String era) {
        Era e = era == null ? null : byEra.get(era);
        if (era != null && e == null) {
            throw new KernelException(Errno.EINVAL, "cost table " + origin + " has no era " + era);
        }
        Map<String, String> priceAs = e == null ? Map.of() : e.priceAsOrEmpty();
        Map<String, String> alsoPays = e == null ? Map.of() : e.alsoPaysOrEmpty();
        Map<String, Double> out = new TreeMap<>();
        events.forEach((event, count) -> {
            Double unit = unitOf(priceAs.getOrDefault(event, event));
            if (unit == null) {
                throw new KernelException(Errno.EINVAL, "cost table " + origin + " has no unit cost for the counted event "
                        + event + " (add an entry to events[], or one for its family " + family(event) + ")");
            }
            String extra = alsoPays.get(event);
            if (extra != null) {
                unit += unitOf(extra);
            }
            double s = count * unit / 1e9;
            if (s != 0) {
                out.put(event, s);
            }
        });
        return out;
    }

    private static String family(String event) {
        int dot = event.indexOf('.');
        return dot < 0 ? event : event.substring(0, dot) + ".*";
    }

    /** The sum of {@link #terms}. */
    public double seconds(Map<String, Long> events, String era) {
        return terms(events, era).values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** A tool's start-up, seconds. */
    public double startupSeconds(String tool) {
        return byTool.get(tool).startupNs() / 1e9;
    }
}

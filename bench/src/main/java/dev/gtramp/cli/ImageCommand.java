package dev.gtramp.cli;

import dev.gtramp.kernel.btf.FunctionPrototype;
import dev.gtramp.kernel.image.ImageFunction;
import dev.gtramp.kernel.image.ImageSummary;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.image.SnapshotGenerator;
import dev.gtramp.kernel.image.TraceDecision;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code gtramp image}: what the model knows about a kernel's functions. Without options it
 * summarises the embedded Linux 6.18 image; {@code --match} lists the traceable functions a pattern
 * selects; {@code --function} shows one function.
 */
@Command(name = "image", mixinStandardHelpOptions = true,
        description = {"Summarise a kernel image: its BTF functions, how many are traceable and why, "
                + "and their argument-register histogram.",
            "By default the embedded Linux 6.18 x86-64 image; --btf/--kallsyms, --running or --synthetic "
                + "choose another."},
        subcommands = {ImageCommand.Snapshot.class})
final class ImageCommand implements Callable<Integer> {

    static final class Source {
        @Option(names = "--btf", paramLabel = "FILE", required = true,
                description = "Raw BTF blob (a copy of /sys/kernel/btf/vmlinux), optionally .xz.")
        Path btf;

        @Option(names = "--kallsyms", paramLabel = "FILE", required = true,
                description = "kallsyms listing (a copy of /proc/kallsyms), optionally .xz.")
        Path kallsyms;
    }

    static final class Choice {
        @ArgGroup(exclusive = false)
        Source files;

        @Option(names = "--running", description = "Read this machine's /sys/kernel/btf/vmlinux and /proc/kallsyms.")
        boolean running;

        @Option(names = "--synthetic", paramLabel = "N",
                description = "A synthetic image of N functions following the real argument-count histogram.")
        Integer synthetic;
    }

    @ArgGroup(exclusive = true)
    Choice choice;

    @Option(names = "--seed", defaultValue = "1", description = "Seed for --synthetic (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--match", paramLabel = "GLOB",
            description = "List the traceable functions matching GLOB (*, ?, [a-z] as in the kernel's glob_match).")
    String match;

    @Option(names = "--deny", paramLabel = "GLOB", description = "With --match: leave out functions matching GLOB (repeatable).")
    List<String> deny = new ArrayList<>();

    @Option(names = "--function", paramLabel = "NAME", description = "Show one function: prototype, address, decision.")
    String function;

    @Option(names = "--json", description = "Print one JSON object instead of text.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        KernelImage image = load();
        if (function != null) {
            ImageFunction f = image.require(function);
            out.println(json ? Json.write(describe(f)) : text(f));
        } else if (match != null) {
            List<ImageFunction> matched = image.match(match, deny);
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("image", image.name());
                o.put("pattern", match);
                o.put("deny", deny);
                o.put("count", matched.size());
                o.put("functions", matched.stream().map(ImageCommand::describe).toList());
                out.println(Json.write(o));
            } else {
                for (ImageFunction f : matched) {
                    out.printf("%#x  %-2d  %s%n", f.ip(), f.prototype().argRegs(), f.prototype().declaration());
                }
                out.printf("%,d traceable functions match %s%s in %s%n", matched.size(), match,
                        deny.isEmpty() ? "" : " (deny " + String.join(", ", deny) + ")", image.name());
            }
        } else {
            ImageSummary s = image.summary();
            out.print(json ? Json.write(summaryJson(s)) + System.lineSeparator() : summaryText(s));
        }
        out.flush();
        return 0;
    }

    private KernelImage load() throws IOException {
        if (choice == null) {
            return KernelImage.linux618();
        }
        if (choice.files != null) {
            return KernelImage.fromFiles(choice.files.btf.getFileName().toString(), choice.files.btf, choice.files.kallsyms);
        }
        if (choice.running) {
            return KernelImage.fromRunningKernel();
        }
        return KernelImage.synthetic(choice.synthetic, seed);
    }

    static Map<String, Object> summaryJson(ImageSummary s) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("image", s.image());
        o.put("btfFunctions", s.btfFunctions());
        o.put("btfFunctionsOver6Params", s.btfFunctionsOver6Params());
        o.put("btfFunctionsOver12Params", s.btfFunctionsOver12Params());
        o.put("btfAndKallsyms", s.btfAndKallsyms());
        o.put("btfAndKallsymsOver6Params", s.btfAndKallsymsOver6Params());
        o.put("kallsymsTextSymbols", s.kallsymsTextSymbols());
        o.put("kallsymsPaddingLabels", s.kallsymsPaddingLabels());
        o.put("ambiguousNames", s.ambiguousNames());
        o.put("aliases", s.aliases());
        o.put("traceable", s.traceable());
        o.put("traceableOver6ArgRegs", s.traceableOver6ArgRegs());
        o.put("traceableBpfUnsupported", s.traceableBpfUnsupported());
        Map<String, Object> decisions = new LinkedHashMap<>();
        for (TraceDecision d : TraceDecision.values()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("count", s.decisions().getOrDefault(d, 0));
            e.put("reason", d.reason());
            decisions.put(d.name(), e);
        }
        o.put("decisions", decisions);
        o.put("argRegsHistogram", new TreeMap<>(s.argRegsHistogram()));
        o.put("paramHistogram", new TreeMap<>(s.paramHistogram()));
        return o;
    }

    static String summaryText(ImageSummary s) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("image %s%n", s.image()));
        b.append(String.format("  BTF functions               %,9d%n", s.btfFunctions()));
        b.append(String.format("    with more than 6 params   %,9d   (more than 12: %,d)%n",
                s.btfFunctionsOver6Params(), s.btfFunctionsOver12Params()));
        b.append(String.format("  kallsyms text symbols       %,9d   (%,d of them __pfx_ padding labels)%n",
                s.kallsymsTextSymbols(), s.kallsymsPaddingLabels()));
        b.append(String.format("  in BTF and kallsyms         %,9d   (%,d with more than 6 params)%n",
                s.btfAndKallsyms(), s.btfAndKallsymsOver6Params()));
        b.append(String.format("    names at several addresses %,8d   (the first is used, as kallsyms_lookup_name does)%n",
                s.ambiguousNames()));
        b.append(String.format("    aliases of another function %,7d   (one address and body, several names)%n", s.aliases()));
        b.append(String.format("  traceable                   %,9d%n", s.traceable()));
        b.append(String.format("    more than 6 arg registers %,9d   (stack arguments: the global caller cannot serve them)%n",
                s.traceableOver6ArgRegs()));
        b.append(String.format("    BPF trampoline rejects    %,9d   (varargs, floats, structs over 16 bytes, too many args)%n",
                s.traceableBpfUnsupported()));
        b.append(String.format("%ntraceability, first rule that applies%n"));
        for (TraceDecision d : TraceDecision.values()) {
            b.append(String.format("  %-16s %,9d   %s%n", d, s.decisions().getOrDefault(d, 0), d.reason()));
        }
        b.append(String.format("%nargument registers of traceable, BPF-supported functions%n"));
        histogram(b, new TreeMap<>(s.argRegsHistogram()));
        b.append(String.format("%nparams per BTF function (FUNC_PROTO vlen; '...' counts as one)%n"));
        histogram(b, new TreeMap<>(s.paramHistogram()));
        return b.toString();
    }

    private static void histogram(StringBuilder b, TreeMap<Integer, Integer> h) {
        int max = h.values().stream().mapToInt(Integer::intValue).max().orElse(1);
        for (Map.Entry<Integer, Integer> e : h.entrySet()) {
            int bar = (int) Math.ceil(40.0 * e.getValue() / max);
            b.append(String.format("  %3d %,9d  %s%n", e.getKey(), e.getValue(), "#".repeat(bar)));
        }
    }

    static Map<String, Object> describe(ImageFunction f) {
        FunctionPrototype p = f.prototype();
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("name", f.name());
        o.put("ip", String.format("%#x", f.ip()));
        o.put("prototype", p.declaration());
        o.put("linkage", p.linkage().name());
        o.put("params", p.paramCount());
        o.put("argRegs", p.argRegs());
        o.put("returnSize", p.returnSize());
        o.put("bpfSupported", p.isBpfSupported());
        if (!p.isBpfSupported()) {
            o.put("unsupportedReason", p.unsupportedReason());
        }
        o.put("paddingBytes", f.paddingBytes());
        o.put("addresses", f.addressCount());
        o.put("traceable", f.isTraceable());
        o.put("decision", f.decision().name());
        o.put("decisionReason", f.decision().reason());
        return o;
    }

    private static String text(ImageFunction f) {
        FunctionPrototype p = f.prototype();
        StringBuilder b = new StringBuilder();
        b.append(p.declaration()).append(System.lineSeparator());
        b.append(String.format("  ip %#x, %d bytes of padding, %d kallsyms address(es)%n", f.ip(), f.paddingBytes(), f.addressCount()));
        b.append(String.format("  %s linkage, %d params, %d argument registers, returns %d bytes%n",
                p.linkage().name().toLowerCase(java.util.Locale.ROOT), p.paramCount(), p.argRegs(), p.returnSize()));
        b.append(String.format("  BPF trampoline: %s%n", p.isBpfSupported() ? "supported" : p.unsupportedReason()));
        b.append(String.format("  %s: %s", f.decision(), f.decision().reason()));
        return b.toString();
    }

    /** {@code gtramp image snapshot}: regenerates the embedded image from raw BTF and kallsyms. */
    @Command(name = "snapshot", mixinStandardHelpOptions = true,
            description = "Generate an image snapshot (the embedded resource's format) from raw BTF and kallsyms.")
    static final class Snapshot implements Callable<Integer> {
        @Option(names = "--btf", paramLabel = "FILE", required = true, description = "Raw BTF blob, optionally .xz.")
        Path btf;

        @Option(names = "--kallsyms", paramLabel = "FILE", required = true, description = "kallsyms listing, optionally .xz.")
        Path kallsyms;

        @Option(names = "--out", paramLabel = "FILE", required = true, description = "Where to write the snapshot.")
        Path out;

        @Option(names = "--name", defaultValue = SnapshotGenerator.LINUX_618_NAME,
                description = "The image name (default: ${DEFAULT-VALUE}).")
        String name;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            KernelImage image = SnapshotGenerator.generate(name, btf, kallsyms, out);
            spec.commandLine().getOut().printf("wrote %s: %s%n", out, image);
            return 0;
        }
    }
}

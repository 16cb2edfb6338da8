package dev.gtramp.kernel.image;

import dev.gtramp.kernel.btf.FunctionPrototype;

import java.util.List;
import java.util.Set;

/**
 * Decides {@link TraceDecision}s from the section markers kallsyms carries, as documented on
 * {@link TraceDecision}. The section bounds are those of {@code arch/x86/kernel/vmlinux.lds.S}.
 */
final class TraceabilityRules {
    /**
     * The verifier's {@code btf_id_deny} set ({@code kernel/bpf/verifier.c}), over the kernel
     * versions whose names differ: which entries apply depends on the config, and only names the
     * image has can match.
     */
    static final Set<String> BTF_ID_DENY = Set.of(
            "migrate_disable", "migrate_enable", "__migrate_enable", "___migrate_enable",
            "rcu_read_unlock_strict", "preempt_count_add", "preempt_count_sub",
            "__rcu_read_lock", "__rcu_read_unlock");

    private record Range(long start, long end, TraceDecision decision) {
        boolean contains(long ip) {
            return Long.compareUnsigned(ip, start) >= 0 && Long.compareUnsigned(ip, end) < 0;
        }
    }

    private final long textStart;
    private final long textEnd;
    private final List<Range> excluded;

    private TraceabilityRules(long textStart, long textEnd, List<Range> excluded) {
        this.textStart = textStart;
        this.textEnd = textEnd;
        this.excluded = excluded;
    }

    /** Rules from the markers of a listing; a missing marker disables the rule that needs it. */
    static TraceabilityRules of(Kallsyms ks) {
        long stext = ks.marker("_stext").orElse(0L);
        long etext = ks.marker("_etext").orElse(-1L);
        List<Range> ranges = new java.util.ArrayList<>();
        addRange(ks, ranges, "__entry_text_start", "__entry_text_end", TraceDecision.ENTRY_TEXT);
        addRange(ks, ranges, "__irqentry_text_start", "__irqentry_text_end", TraceDecision.ENTRY_TEXT);
        addRange(ks, ranges, "__noinstr_text_start", "__noinstr_text_end", TraceDecision.NOINSTR_TEXT);
        addRange(ks, ranges, "__cpuidle_text_start", "__cpuidle_text_end", TraceDecision.NOINSTR_TEXT);
        addRange(ks, ranges, "_sinittext", "_einittext", TraceDecision.INIT_TEXT);
        return new TraceabilityRules(stext, etext, List.copyOf(ranges));
    }

    private static void addRange(Kallsyms ks, List<Range> out, String start, String end, TraceDecision d) {
        var s = ks.marker(start);
        var e = ks.marker(end);
        if (s.isPresent() && e.isPresent()) {
            out.add(new Range(s.get(), e.get(), d));
        }
    }

    TraceDecision decide(FunctionPrototype proto, long ip, int paddingBytes) {
        if (ip == 0) {
            return TraceDecision.NOT_IN_KALLSYMS;
        }
        for (Range r : excluded) {
            if (r.contains(ip)) {
                return r.decision();
            }
        }
        if (Long.compareUnsigned(ip, textStart) < 0 || Long.compareUnsigned(ip, textEnd) >= 0) {
            return TraceDecision.OUTSIDE_TEXT;
        }
        if (paddingBytes == 0) {
            return TraceDecision.NO_PADDING;
        }
        if (BTF_ID_DENY.contains(proto.name())) {
            return TraceDecision.BPF_DENIED;
        }
        return TraceDecision.TRACEABLE;
    }
}

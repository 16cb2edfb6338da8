package dev.gtramp.study;

import dev.gtramp.ftrace.Cost;
import dev.gtramp.ftrace.FtraceCosts;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.mm.MemorySnapshot;
import dev.gtramp.kernel.rcu.RcuStats;
import dev.gtramp.trampoline.Trampolines;

import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every event the model counts exactly, by name, at one quiescent moment of one kernel; subtract two
 * ({@link #minus}) for what happened between them. The names are the cost table's keys:
 * <ul>
 *   <li>{@code ftrace.<cost>}: the ftrace layer's {@link Cost} counters ({@code ftrace.text_pokes},
 *       {@code ftrace.core_syncs}, {@code ftrace.grace_periods_tasks_rude}, ...);</li>
 *   <li>{@code rcu.call_rcu}, {@code rcu.call_rcu_tasks}: callbacks every layer queued, by RCU
 *       flavor (ftrace's own are also in {@code ftrace.call_rcu*}). Grace periods waited are ftrace's
 *       {@code ftrace.grace_periods_*}: nothing else in the kernel waits for one; the callback
 *       threads' own grace periods batch callbacks as the timing falls and are not counted;</li>
 *   <li>{@code alloc.<type>} and {@code free.<type>}: the allocator's allocations and frees by
 *       object type ({@code alloc.bpf_tramp_image} is images built, {@code alloc.kfunc_md} mds
 *       created);</li>
 *   <li>{@code bpf.prog_load}, {@code bpf.link_create}: the programs a tool loads and the links it
 *       creates, counted by the study's driver.</li>
 * </ul>
 * Immutable.
 */
public final class CountedEvents {
    private final Map<String, Long> counts;

    private CountedEvents(Map<String, Long> counts) {
        this.counts = Collections.unmodifiableMap(counts);
    }

    /**
     * The kernel's counters now, with the driver's own counts, less the callbacks the driver's own
     * {@code rcu_barrier} calls queued.
     */
    static CountedEvents of(Trampolines t, long progLoads, long linkCreates, long rcuBarriers, long tasksBarriers) {
        Kernel k = t.kernel();
        Map<String, Long> m = new TreeMap<>();
        FtraceCosts costs = t.ftrace().costs();
        for (Cost c : Cost.values()) {
            m.put("ftrace." + c.name().toLowerCase(Locale.ROOT), costs.get(c));
        }
        RcuStats rcu = k.rcu().stats();
        RcuStats tasks = k.tasksRcu().stats();
        m.put("rcu.call_rcu", rcu.callbacksQueued() - rcuBarriers);
        m.put("rcu.call_rcu_tasks", tasks.callbacksQueued() - tasksBarriers);
        MemorySnapshot mem = k.allocator().snapshot();
        mem.byType().forEach((type, u) -> {
            m.put("alloc." + type, u.allocs());
            m.put("free." + type, u.frees());
        });
        m.put("bpf.prog_load", progLoads);
        m.put("bpf.link_create", linkCreates);
        return new CountedEvents(m);
    }

    /** Events from a map (a parsed study or a test). */
    public static CountedEvents of(Map<String, Long> counts) {
        return new CountedEvents(new TreeMap<>(counts));
    }

    /** {@code this - earlier}, name by name; names only one side has count from zero. Zeros are dropped. */
    public CountedEvents minus(CountedEvents earlier) {
        Map<String, Long> m = new TreeMap<>();
        counts.forEach((k, v) -> {
            long d = v - earlier.get(k);
            if (d != 0) {
                m.put(k, d);
            }
        });
        earlier.counts.forEach((k, v) -> {
            if (!counts.containsKey(k) && v != 0) {
                m.put(k, -v);
            }
        });
        return new CountedEvents(m);
    }

    /** The count of {@code event}, 0 if it never happened. */
    public long get(String event) {
        return counts.getOrDefault(event, 0L);
    }

    /** Every non-zero event by name, sorted. */
    public Map<String, Long> asMap() {
        return counts;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CountedEvents e && e.counts.equals(counts);
    }

    @Override
    public int hashCode() {
        return counts.hashCode();
    }

    @Override
    public String toString() {
        return counts.toString();
    }
}

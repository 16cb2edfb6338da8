package dev.gtramp.stress.ftrace;

import dev.gtramp.ftrace.FtraceHash;
import dev.gtramp.ftrace.FtraceOps;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.List;
import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code direct_functions}: a caller in the list function never reads a table that
 * {@code update_ftrace_direct_del} replaced and freed.</b>
 *
 * <pre>
 *   cpu 0                                   writer
 *   until the updates are over, calls:      wait for cpu 0's calls
 *     r = f()                               for g in g1..g4:
 *       ftrace_regs_caller                    update_ftrace_direct_del(direct_ops, {g: A})
 *       ftrace_ops_list_func:                   direct_functions = a copy without g
 *         function_tracer's callback            call_rcu_tasks(free the old table)
 *         call_direct_funcs:                  (callback processing: a tasks-RCU grace period,
 *           t = direct_functions               then the free; and call_rcu's, for the
 *           A = lookup(t, f)                   replaced filter)
 *       A: the body's 0, plus 1
 *                                           arbiter: r2 = KASAN reports
 * </pre>
 *
 * {@code f} is traced by two ops from before the trial: {@code direct_ops} (on A) and a function
 * tracer (a callback ops, {@code FtraceOps.callback} with {@code f} as its filter). A site with two
 * ops calls {@code ftrace_regs_caller}, whose {@code ftrace_call} is the list function, so every
 * call of {@code f} runs the tracer's callback and then {@code call_direct_funcs}, which loads
 * {@code direct_functions} and looks {@code f} up in it; the regs caller then enters A. The writer
 * detaches four other functions of {@code direct_ops}, one after the other: each del publishes a
 * copy of {@code direct_functions} without its function (after patching that function's site) and
 * frees the old table with {@code call_rcu_tasks}, then runs the pending callbacks, as the
 * callback thread would. {@code f} and its entry are never touched, so every call must run A.
 *
 * <p>The hazard: a CPU in the list function may have loaded the old table and still be reading it.
 * Tasks RCU covers that: its grace period waits for every CPU that is inside a traced call (the
 * model's CPU is a tasks-RCU reader for its outermost call). A table freed without the grace period
 * can be freed under CPU 0's lookup, which the table's KASAN checks report (a
 * {@code KasanException} in CPU 0's call).
 *
 * <p><b>Widening the window.</b> The window is short: from {@code call_direct_funcs}' load of
 * {@code direct_functions} to the end of its lookup, a few nanoseconds, while the broken writer's
 * publish-then-free (store the new table, drop {@code direct_mutex}, free the old one) takes longer
 * than that. So a catch needs CPU 0 held up inside the lookup (a cache miss, a preemption), and
 * stays rare per free. Where the tracer sits in {@code ftrace_ops_list} does not help (it is
 * registered last, so it is first in the list and its callback runs before
 * {@code call_direct_funcs}): the table is loaded and used up within that one callback, and a
 * callback before or after it holds no reference to it. The trial multiplies the chances instead:
 * CPU 0 calls back to back from before the first update to after the last, and the writer
 * replaces and frees the table four times. At {@code run-jcstress}'s budget on a 2-CPU machine,
 * detaching one function caught the broken variant in 20 to 86 trials per run (3 runs), four in
 * 24 to 1,472 (11 runs; more on a busier machine), eight, whose trials are fewer, in 79 to 395
 * (3 runs).
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1} is what CPU 0's calls saw: 0 every call ran A, 1 a call
 * read a freed table (a KASAN report), 2 a call ran no trampoline or faulted otherwise, 3 the
 * updates did not return within 5 s; {@code r2} whether the kernel's KASAN reported anything by the
 * end of the trial (after every callback ran).
 * <ul>
 *   <li>{@code 0, 0}: every call ran A; nothing was freed under a reader;</li>
 *   <li>{@code 1, *}: FORBIDDEN, a call read a freed {@code direct_functions} (use after free);</li>
 *   <li>{@code *, 1}: FORBIDDEN, a KASAN report anywhere;</li>
 *   <li>{@code 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once everything was
 *       detached and every callback had run (live objects, callbacks, patched sites, direct entries
 *       or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN (a call that ran no trampoline or faulted ({@code r1 = 2}), or
 *       stuck ({@code r1 = 3})).</li>
 * </ul>
 * Paired with {@link FtraceDirectHashFreeBroken}, which must show {@code 1, 1}.
 */
@Description("direct_functions: a caller in the list function never reads a freed table")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "every call ran tramp A; no KASAN report")
@Outcome(id = "0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "use after free: a call read a freed direct_functions")
@Outcome(id = ".*, 1", expect = FORBIDDEN, desc = "a KASAN report")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a call ran no trampoline or faulted (2), or stuck (3)")
public abstract class HashFreeVsCall extends FtraceTrial {
    /** How many functions the writer detaches, each replacing and freeing {@code direct_functions}. */
    static final int DETACHES = 4;

    /** The functions the writer detaches: image functions 1 to {@link #DETACHES}. */
    private final List<KernelFunction> detached = kernel.functions().subList(1, 1 + DETACHES);
    private final FtraceOps tracer = FtraceOps.callback("function_tracer", (ip, parentIp, op, regs) -> { }, 0);
    /** Written and read only by CPU 0's actor. */
    private int fault;

    HashFreeVsCall(Set<UnsafeVariant> unsafe) {
        super(SMALL_IMAGE, unsafe, 0);
        attach(f, TRAMP_A);
        for (KernelFunction g : detached) {
            attach(g, TRAMP_A);
        }
        ftrace.setFilterIp(tracer, f.ip(), false, false);
        ftrace.registerFtraceFunction(tracer);
        if (f.site().read() != ftrace.ftraceRegsCaller()) {
            throw new IllegalStateException("two ops on f, but its site is " + f.site());
        }
        settle();
        setupDone();
    }

    /** CPU 0: calls {@code f} until the updates are over. */
    final void call(II_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            boolean over = callWhileUpdating(cpu, this::during);
            r.r1 = fault != 0 ? fault : over ? 0 : 3;
        }
    }

    private boolean during(long result) {
        if (result == BODY + 1) {
            return true;
        }
        fault = result == FREED ? 1 : 2;
        return false;
    }

    /** The writer: detaches the functions one by one, running the callbacks after each. */
    final void write() {
        awaitCaller();
        try {
            for (KernelFunction g : detached) {
                FtraceHash h = hashOf(g, TRAMP_A);
                ftrace.updateFtraceDirectDel(ops, h);
                ftrace.freeHash(h);
                kernel.tasksRcu().runPendingCallbacks();
                kernel.rcu().runPendingCallbacks();
            }
        } finally {
            updated = true;
        }
    }

    /** The arbiter: runs the callbacks left, closes the kernel, and reads KASAN's count. */
    final void check(II_Result r) {
        r.r2 = finish() > 0 ? 1 : 0;
        if (residue(r, "0, 0")) {
            r.r2 = Residue.VALUE;
        }
    }

    /** The function tracer on {@code f}, for the arbiter's teardown. */
    @Override
    final void untrace() {
        ftrace.unregisterFtraceFunction(tracer);
    }
}

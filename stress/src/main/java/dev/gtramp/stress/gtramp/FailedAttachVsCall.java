package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.fault.FaultSpec;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.Residue;
import dev.gtramp.trampoline.KfuncMdFreeProtocol;
import dev.gtramp.trampoline.TracingMultiOpts;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.List;
import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>A failing multi attach racing calls: the program of an attach that fails never runs.</b>
 *
 * <pre>
 *   cpu 0                                   writer
 *   until the attaches are over, calls:     wait for cpu 0's calls
 *     m = b = 0                             4 times, with ftrace:verify_code failing:
 *     f()                                     attach fentry.multi B to {f, g}:
 *       bpf_global_caller: f's md               f: kfunc_md_create (users + 1), B's node
 *         M (m++), B if linked (b++)            g: kfunc_md_create (new md), B's node
 *     check m == 1 and b == 0                   update_ftrace_direct_add of g: fails (EFAULT)
 *   one more call: must run M alone             undo: nodes freed, mds put
 * </pre>
 *
 * {@code f} has a multi program M, served by {@code bpf_global_caller} through its live
 * {@code kfunc_md}. The writer attaches a second multi program B to {@code f} and to {@code g}, a
 * function new to the global caller, whose {@code update_ftrace_direct_add} fails (fault point
 * {@code ftrace:verify_code}): the attach fails with EFAULT and is undone.
 *
 * <p>The hazard: f's md is live while the attach builds its state. The attach must link B into it
 * only after the ftrace update that may fail has succeeded ({@code KfuncMds.prepareLink}, then
 * {@code commitLink}); a {@code kfunc_md_bpf_link} of each function before the publish
 * ({@link UnsafeVariant#GTRAMP_LINK_BEFORE_PUBLISH}) makes calls of {@code f} run B between the link
 * and the undo, for an attach that the caller is told failed.
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1}: 0 every call ran M once and B never, and no call
 * overlapped an attach; 5 the same, with at least one call overlapping an attach (the race);
 * 1 a call ran B; 2 a call ran M other than once; 3 a call failed; 4 the attaches did not end in
 * time; {@code r2}: 1 if every attach failed with EFAULT and a call after them ran M alone.
 * <ul>
 *   <li>{@code 5, 1}: calls raced the failing attaches and none ran B (the interleaving);</li>
 *   <li>{@code 0, 1}: the same, though no call happened to overlap an attach;</li>
 *   <li>{@code 1, *}: FORBIDDEN, a call ran the program of an attach that failed;</li>
 *   <li>{@code *, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link GtrampFailedAttachLinkBeforePublishBroken}, which must show {@code 1, 1}.
 */
@Description("a failing multi attach racing calls: the failed attach's program never runs")
@Outcome(id = "5, 1", expect = ACCEPTABLE, desc = "calls overlapped the failing attaches; none ran B")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "no call ran B; none overlapped an attach")
@Outcome(id = ".*, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "a call ran the program of a failed attach")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "M run wrongly, a fault, an attach that passed, or a stuck writer")
public abstract class FailedAttachVsCall extends GlobalTrial {
    private static final int ATTACHES = 4;
    private static final long BODY = 7;

    /** The runs of M and B in the current call; written and read by CPU 0 only. */
    private int m;
    private int b;
    /**
     * The writer's attach count, odd while an attach runs; volatile, so that a call reading it
     * before and after knows whether an attach overlapped it.
     */
    private volatile long attaches;
    /** Whether every attach failed with EFAULT; the writer's, read by CPU 0 after the updates end. */
    private volatile boolean allFailed = true;
    /** Whether a call overlapped an attach; CPU 0's only. */
    private boolean overlapped;
    private final KernelFunction g;
    private final BpfProg failing = prog("failing", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> {
        b++;
        return 0;
    });

    FailedAttachVsCall(Set<UnsafeVariant> unsafe) {
        super(unsafe, RcuFlavor.QSBR, KfuncMdFreeProtocol.RCU_THEN_KILL);
        g = kernel.functions().get(1);
        f.setBody(frame -> BODY);
        attachMulti(prog("served", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> {
            m++;
            return 0;
        }));
        settle();
        // The attaches fail on the fault injected at ftrace:verify_code, which ftrace reports as
        // ftrace_bug: the test's doing, not residue.
        expectLog(e -> e.facility().equals("ftrace") && e.message().startsWith("ftrace_bug:"));
        setupDone();
    }

    /** CPU 0: calls {@code f} until the attaches are over, then once more. */
    final void call(II_Result res) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            int verdict = callWhileUpdating(() -> once(cpu), 4);
            res.r1 = verdict == 0 && overlapped ? 5 : verdict;
            res.r2 = once(cpu) == 0 && allFailed ? 1 : 0;
        }
    }

    private int once(Cpu cpu) {
        m = 0;
        b = 0;
        long before = attaches;
        long v = callOnce(cpu);
        if ((before & 1) == 1 || attaches != before) {
            overlapped = true;
        }
        if (v != BODY) {
            return 3;
        }
        if (b != 0) {
            return 1;
        }
        return m == 1 ? 0 : 2;
    }

    /** The writer: attaches B to {f, g} while g's ftrace update fails, {@link #ATTACHES} times. */
    final void write() {
        updateWhileCalling(() -> {
            TracingMultiOpts opts = TracingMultiOpts.create().names(List.of(f.name(), g.name()));
            for (int i = 0; i < ATTACHES; i++) {
                attaches++; // odd: an attach is under way (the writer is the only writer)
                kernel.faults().arm("ftrace:verify_code", FaultSpec.always());
                try {
                    trampolines.attachMulti(failing, null, opts).close();
                    allFailed = false;
                } catch (KernelException e) {
                    if (e.errno() != Errno.EFAULT) {
                        allFailed = false;
                    }
                } finally {
                    kernel.faults().disarmAll();
                }
                attaches++;
            }
        });
    }

    final void check(II_Result res) {
        finish();
        if (residue(res, "5, 1", "0, 1")) {
            res.r2 = Residue.VALUE;
        }
    }
}

package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.PaddingInsn;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.Residue;
import dev.gtramp.trampoline.BpfTracingMultiLink;
import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>The no-padding fallback racing calls: a function the padding index cannot hold runs its multi
 * programs once per call, through its own trampoline, while links come and go.</b>
 *
 * <pre>
 *   cpu 0                                   writer
 *   until the updates are over, calls:      wait for cpu 0's calls
 *     a = b = 0                             attach L1 (A): kfunc_md_create keeps the md aside
 *     f()                                     (no padding for mov $slot), f falls back to its
 *       f's trampoline (A: a++, B: b++)       trampoline, A as a shim: update_ftrace_direct_add
 *       or the NOP                          attach L2 (B): B joins the trampoline: _mod
 *     check a, b &lt;= 1; with no update     close L1: the trampoline without A: _mod
 *       under way, each program ran iff     close L2: the trampoline goes: _del
 *       its link was attached               after each update, wait for two more calls
 *   one more call: must run nothing
 * </pre>
 *
 * {@code f} has 8 bytes of padding before it, too few for {@code mov $slot, %eax}, so the padding
 * index cannot hold its md ({@code cannotIndex}): the md is kept where writers find it, and
 * {@code f} is served by its own trampoline, with each md program as a shim, never by
 * {@code bpf_global_caller}. A and B are fentry.multi programs. After each update the writer waits
 * for two more calls of CPU 0, so that every state is also called with no update under way.
 *
 * <p>The hazard: each link that joins or leaves must reach the trampoline that {@code f}'s site
 * calls. The first link adds the site's entry; each later change builds a new image with the md's
 * programs and moves the entry to it with {@code update_ftrace_direct_mod}; the last link deletes
 * the entry. A call that no update overlapped runs exactly the programs of the links attached. An
 * entry changed in place without the stub ops ({@code DIRECT_MOD_WITHOUT_STUB_OPS}) leaves the site
 * calling the old image: calls after L2's attach run A and not B.
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1}: 0 every call ran each program at most once, and each
 * call that no update overlapped ran exactly the attached links' programs, some call overlapping an
 * update; 5 the same, no call overlapping an update; 1 a call with no update under way missed an
 * attached link's program; 2 a call ran a program twice, or one of a link closed before the call;
 * 3 a call failed; 4 the updates did not finish in time; {@code r2}: 1 if the call after the updates
 * ran nothing and {@code f}'s padding stayed NOPs throughout, 2 if an update failed (ftrace found
 * the site not calling what its records said, and refused).
 * <ul>
 *   <li>{@code 0, 1}: every call ran each attached program once, calls raced the updates;</li>
 *   <li>{@code 5, 1}: the same, no call overlapping an update;</li>
 *   <li>{@code 1, *}: FORBIDDEN, an attached link's program did not run;</li>
 *   <li>{@code *, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link PaddingFallbackModNoStubBroken}, which must show {@code 1, 2}.
 */
@Description("the no-padding fallback racing calls: each attached multi program runs once per call")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "each call ran the attached programs once; calls raced the updates")
@Outcome(id = "5, 1", expect = ACCEPTABLE, desc = "each call ran the attached programs once; none overlapped an update")
@Outcome(id = ".*, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "a call with no update under way missed an attached program")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a program run twice or after its link closed, a fault, or a stuck update")
public abstract class FallbackVsCall extends GlobalTrial {
    /** 16 functions, the first ({@code f}) with 8 bytes of padding. */
    private static final KernelImage IMAGE = KernelImage.synthetic(16, 1, 1);
    private static final int UPDATES = 4;
    private static final long BODY = 7;

    /** Runs of A and B in the current call; CPU 0's only. */
    private int a;
    private int b;
    /**
     * The writer's update count, odd while an update runs; volatile, so that CPU 0 reading the same
     * even value before and after a call knows no update overlapped it, and which links were attached.
     */
    private volatile int updates;
    /** CPU 0's calls so far; volatile for the writer, which waits for two calls between updates. */
    private volatile long calls;
    /** Set by CPU 0 when a call went wrong and it stops calling, so the writer waits no more. */
    private volatile boolean stopped;
    /** Whether a call overlapped an update, and whether f's padding ever held anything; CPU 0's only. */
    private boolean overlapped;
    private boolean paddingTouched;
    private final BpfProg progA = prog("fallback_a", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> {
        a++;
        return 0;
    });
    private final BpfProg progB = prog("fallback_b", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> {
        b++;
        return 0;
    });
    /** Set by the writer if an update failed (ftrace refused it); the arbiter reports it as {@code r2 = 2}. */
    private volatile boolean updateFailed;
    /** The links while attached; the writer's only. */
    private BpfTracingMultiLink l1;
    private BpfTracingMultiLink l2;

    FallbackVsCall(Set<UnsafeVariant> unsafe) {
        super(IMAGE, unsafe, RcuFlavor.QSBR, TrampolinesConfig.global(MultiLinkMode.GLOBAL_PADDING));
        f.setBody(frame -> BODY);
        setupDone();
    }

    /** CPU 0: calls {@code f} until the updates are over, then once more. */
    final void call(II_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            int verdict = callWhileUpdating(() -> {
                int v = once(cpu);
                stopped = v != 0;
                return v;
            }, 4);
            r.r1 = verdict == 0 && !overlapped ? 5 : verdict;
            a = 0;
            b = 0;
            long v = callOnce(cpu);
            r.r2 = v == BODY && a == 0 && b == 0 && !paddingTouched ? 1 : 0;
        }
    }

    private int once(Cpu cpu) {
        a = 0;
        b = 0;
        int before = updates;
        long v = callOnce(cpu);
        int after = updates;
        calls = calls + 1; // CPU 0 is the only writer
        paddingTouched |= f.site().padding() != PaddingInsn.NOP_WORD;
        if (v != BODY) {
            return 3;
        }
        if (a > 1 || b > 1) {
            return 2;
        }
        if ((before & 1) == 1 || after != before) {
            overlapped = true;
            // An update under way: either side of it is allowed, but not a link closed before the call.
            boolean aMayRun = before <= 5;      // L1 attached at some point of the call: updates 1..6
            boolean bMayRun = before <= 7 && after >= 3;
            return (a == 1 && !aMayRun) || (b == 1 && !bMayRun) ? 2 : 0;
        }
        // No update under way: after update 1 (2) L1 alone, 2 (4) both, 3 (6) L2 alone, 4 (8) none.
        int wantA = before == 2 || before == 4 ? 1 : 0;
        int wantB = before == 4 || before == 6 ? 1 : 0;
        if (a < wantA || b < wantB) {
            return 1;
        }
        return a == wantA && b == wantB ? 0 : 2;
    }

    /** The writer: attaches L1, L2, closes L1, L2, waiting for two calls after each. */
    final void write() {
        updateWhileCalling(() -> {
            try {
                for (int i = 0; i < UPDATES; i++) {
                    updates = updates + 1; // odd: an update is under way
                    switch (i) {
                        case 0 -> l1 = attachMulti(progA);
                        case 1 -> l2 = attachMulti(progB);
                        case 2 -> l1.close();
                        default -> l2.close();
                    }
                    updates = updates + 1;
                    long c = calls;
                    await(() -> calls >= c + 2 || stopped);
                }
            } catch (RuntimeException e) {
                // An outcome, not an error: the update that failed left its link as it was.
                updateFailed = true;
            }
        });
    }

    final void check(II_Result r) {
        if (updateFailed) {
            r.r2 = 2;
        }
        finish();
        if (residue(r, "0, 1", "5, 1")) {
            r.r2 = Residue.VALUE;
        }
    }
}

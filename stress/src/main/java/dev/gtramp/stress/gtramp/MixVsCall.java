package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.Residue;
import dev.gtramp.trampoline.BpfTracingLink;
import dev.gtramp.trampoline.KfuncMdFreeProtocol;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>Mixing racing calls: a function moving between {@code bpf_global_caller} and its own
 * trampoline runs its multi program once per call throughout.</b>
 *
 * <pre>
 *   cpu 0                                   writer
 *   until the updates are over, calls:      wait for cpu 0's calls
 *     m = r = 0                             6 times, alternately:
 *     f()                                     attach fentry R to f: the trampoline takes f over
 *       global caller: M (m++)                  (M as a shim, R), one update_ftrace_direct_mod
 *       or f's trampoline: M, R (r++)           moves f's entry from the global caller to it
 *     check m == 1 and r &lt;= 1              close R: one update_ftrace_direct_mod moves the
 *   one more call: must run M alone           entry back; the trampoline goes
 *                                           (ends on the global caller)
 * </pre>
 *
 * {@code f} has a multi program M, served by {@code bpf_global_caller}: a fentry.multi program, or
 * an fexit.multi one (then the trampoline that takes f over must carry M as an exit shim). Attaching a regular
 * fentry program R makes f's trampoline take the function over with every program of the md as a
 * shim; closing R hands it back. After each update the writer waits for two more calls of CPU 0,
 * so that every state is also called with no update under way. The md keeps M throughout, so
 * whichever target a call enters runs M exactly once, and R at most once.
 *
 * <p>The hazard: the move between the two targets. It must be one {@code update_ftrace_direct_mod}
 * of the one {@code direct_ops} entry, which retargets f's call site from one live target to the
 * other. Removing the entry and adding it back ({@code update_ftrace_direct_del}, then
 * {@code _add}) leaves the site a NOP in between: a call there runs neither target, and M misses it.
 * A takeover that carries only the md's fentry programs as shims drops an fexit or fmod_ret M: a
 * call through the trampoline runs R without M.
 *
 * <p>One skip is the kernel's own: when an update retires the trampoline's image,
 * {@code bpf_tramp_image_put} patches its {@code ip_after_call} to jump over the fexit programs, so a
 * call in flight through the old image returns without them. An fexit.multi M carried as a shim is
 * one of those; a call that ran R, not M, with an update under way at some point of the call, is
 * such a call. A call that no update overlapped must run M.
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1}: 0 every call ran M once and R at most once, 1 a call ran
 * no M (and no update excuses it), 2 a call ran M or R twice, 3 a call failed, 4 the updates did not
 * finish in time, 5 (fexit M only) a call through the trampoline skipped M across an image retire;
 * {@code r2}: 1 if the call after the last update ran M alone.
 * <ul>
 *   <li>{@code 0, 1}: every call ran M once, and M alone after the updates;</li>
 *   <li>{@code 5, 1}: a call in flight across an image retire skipped its fexit shim M, as the
 *       kernel's calls skip an old image's fexit programs;</li>
 *   <li>{@code 1, *}: FORBIDDEN, a call ran no program: it met f's site between two updates;</li>
 *   <li>{@code *, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link GtrampMixDelThenAddBroken}, which must show {@code 1, 1}, and (fexit.multi M,
 * {@link GtrampMixFexitVsCallTest}) with {@link GtrampMixDropsExitShimsBroken}, which must show
 * {@code 1, 1}.
 */
@Description("mixing racing calls: the multi program runs once per call while f moves between targets")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "each call ran M once; M alone after the updates")
@Outcome(id = "5, 1", expect = ACCEPTABLE, desc = "a call across an image retire skipped the fexit shim M (ip_after_call)")
@Outcome(id = ".*, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "a call ran no program: the site was a NOP between two updates")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a program run twice, a fault, or a stuck update")
public abstract class MixVsCall extends GlobalTrial {
    private static final int UPDATES = 6;
    private static final long BODY = 7;

    /** The runs of M and R in the current call; written and read by CPU 0 only. */
    private int m;
    private int r;
    /**
     * The writer's update count, odd while an update runs; volatile, so that CPU 0 reading the same
     * even value before and after a call knows no update (and no image retire) overlapped it.
     */
    private volatile long updates;
    /** CPU 0's calls so far; volatile for the writer, which waits for two calls between updates. */
    private volatile long calls;
    /** Set by CPU 0 when a call went wrong and it stops calling, so the writer waits no more. */
    private volatile boolean stopped;
    /** Whether M is an fexit.multi program, which a call across an image retire may skip. */
    private final boolean exitM;
    /** Whether a call skipped the fexit shim M across an image retire; CPU 0's only. */
    private boolean skippedAcrossRetire;
    /** R's link while attached; the writer's only. */
    private BpfTracingLink regular;
    private final BpfProg fentry = prog("fentry_mix", BpfAttachType.TRACE_FENTRY, ctx -> {
        r++;
        return 0;
    });

    MixVsCall(Set<UnsafeVariant> unsafe) {
        this(unsafe, BpfAttachType.TRACE_FENTRY_MULTI);
    }

    /** @param multiType the kind of M: fentry.multi, or fexit.multi to exercise the exit shims */
    MixVsCall(Set<UnsafeVariant> unsafe, BpfAttachType multiType) {
        super(unsafe, RcuFlavor.QSBR, KfuncMdFreeProtocol.RCU_THEN_KILL);
        exitM = multiType.kind() == BpfTrampKind.FEXIT;
        f.setBody(frame -> BODY);
        attachMulti(prog("multi_mix", multiType, ctx -> {
            m++;
            return 0;
        }));
        settle();
        setupDone();
    }

    /** CPU 0: calls {@code f} until the updates are over, then once more. */
    final void call(II_Result res) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            int verdict = callWhileUpdating(() -> {
                int v = once(cpu);
                stopped = v != 0;
                return v;
            }, 4);
            res.r1 = verdict == 0 && skippedAcrossRetire ? 5 : verdict;
            res.r2 = once(cpu) == 0 && r == 0 ? 1 : 0;
        }
    }

    private int once(Cpu cpu) {
        m = 0;
        r = 0;
        long before = updates;
        long v = callOnce(cpu);
        calls = calls + 1; // CPU 0 is the only writer
        boolean crossedAnUpdate = (before & 1) == 1 || updates != before;
        if (v != BODY) {
            return 3;
        }
        if (m == 0) {
            // Through the trampoline (R ran) across the retire of its image, whose ip_after_call
            // now jumps over the fexit programs: the kernel's bpf_tramp_image_put semantics.
            if (r == 1 && exitM && crossedAnUpdate) {
                skippedAcrossRetire = true;
                return 0;
            }
            return 1;
        }
        return m == 1 && r <= 1 ? 0 : 2;
    }

    /** The writer: attaches and closes R while CPU 0 calls, ending with f back on the global caller. */
    final void write() {
        updateWhileCalling(() -> {
            for (int i = 0; i < UPDATES; i++) {
                updates++; // odd: an update is under way
                step(i);
                updates++;
                // Two calls with no update under way: each state is called outside a retire too.
                long c = calls;
                await(() -> calls >= c + 2 || stopped);
            }
        });
    }

    /** Attaches R on even steps, closes it on odd ones. */
    private void step(int i) {
        if (i % 2 == 0) {
            regular = track(trampolines.attach(fentry, f, 0));
        } else {
            regular.close();
            regular = null;
        }
    }

    final void check(II_Result res) {
        finish();
        if (residue(res, "0, 1", "5, 1")) {
            res.r2 = Residue.VALUE;
        }
    }
}

package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.stress.Residue;
import dev.gtramp.trampoline.BpfTracingMultiLink;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.List;
import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>A stale {@code mov $slot}: a caller that decoded {@code f}'s index before {@code f} was
 * detached never finds another function's md in that slot.</b>
 *
 * <pre>
 *   cpu 0                                      writer
 *   r = f()                                    wait until cpu 0 is in the window
 *     bpf_global_caller: rcu_read_lock,        close f's tracing multi link:
 *       kfunc_md_get_rcu:                        kfunc_md_bpf_unlink (P's node), ftrace del,
 *         insn = *(ip - 16): mov $s, %eax        kfunc_md_put: NOPs over f's padding,
 *         mds = rcu_dereference(kfunc_mds)       call_rcu (the md's free protocol)
 *         -- interrupt: spins until the       attach g's tracing multi link (program Q):
 *            writer is done --                   kfunc_md_create: g's md takes a slot
 *         md = mds[s]                            (s again only if s was free), mov $slot
 *       fentry programs of md                    into g's padding
 *     f's body                                 let cpu 0 go on
 *                                              arbiter: run the callbacks left; r3 = KASAN
 * </pre>
 *
 * {@code f} and {@code g} are served by {@code bpf_global_caller} through the padding index. CPU 0's
 * call of {@code f} decodes {@code f}'s slot {@code s} and loads the md array, then takes an
 * interrupt, during which the writer detaches {@code f} and attaches {@code g}; then the call reads
 * slot {@code s}. The writer runs no callback while the call is in its read-side section (none could
 * complete anyway), so {@code f}'s md is not freed under it.
 *
 * <p>The hazard: the slot's reuse. The caller does not check that the md it finds is its
 * function's ({@code md->func == ip}); what makes the stale index safe is that a slot is free again
 * only when its md is freed, after grace periods that wait for every caller that could have decoded
 * it. So {@code g} gets a slot of its own, and CPU 0 finds {@code f}'s md, unpublished but alive,
 * whose program list the writer has already emptied: P may run or not, Q must not. A
 * {@code kfunc_md_put} that gives the slot back with the NOPs lets {@code g}'s md take {@code s}:
 * CPU 0 then runs {@code g}'s program Q on a call of {@code f}.
 *
 * <p>Outcomes {@code (r1, r2, r3)}: {@code r1} is CPU 0's call: 0 it returned the body's value having
 * run P at most once and Q never, 1 it ran Q (another function's md), 2 it read freed memory, 3 it
 * failed otherwise or ran P twice, 4 it never reached the window; {@code r2}: 0 {@code g}'s md got a
 * slot of its own, 1 it took {@code f}'s slot {@code s}, 2 the writer did not attach {@code g};
 * {@code r3}: 1 if KASAN reported anything by the end of the trial.
 * <ul>
 *   <li>{@code 0, 0, 0}: the call found {@code f}'s own md through the stale index, {@code g} in
 *       another slot;</li>
 *   <li>{@code 1, *, *}: FORBIDDEN, a call of {@code f} ran {@code g}'s program;</li>
 *   <li>{@code 0, 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link PaddingSlotFreedAtUnpublishBroken}, which must show {@code 1, 1, 0}.
 */
@Description("a stale mov $slot: the slot is not reused while a caller may still read it")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "the stale index found f's own md; g got another slot")
@Outcome(id = "0, 0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "a call of f ran g's program: its slot was reused under the caller")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a fault, a program run wrongly, a stray KASAN report, or no race")
public abstract class StaleSlotVsReuse extends InterruptedFind {
    private static final long BODY = 7;

    private final KernelFunction g;
    private final BpfTracingMultiLink fLink;
    /** Runs of P and Q in CPU 0's call; written and read by CPU 0 only. */
    private int p;
    private int q;
    /** f's slot, decoded before the trial; then g's, written by the writer before the arbiter runs. */
    private final int fSlot;
    private volatile int gSlot = -1;
    /** Set by the writer if CPU 0 never reached the window; the arbiter reports it as {@code r1 = 4}. */
    private volatile boolean missed;

    StaleSlotVsReuse(Set<UnsafeVariant> unsafe) {
        super(SMALL_IMAGE, unsafe);
        g = kernel.functions().stream().skip(1).filter(fn -> fn.prototype().argRegs() <= 6).findFirst().orElseThrow();
        f.setBody(frame -> BODY);
        fLink = attachMulti(prog("stale_f", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> {
            p++;
            return 0;
        }), List.of(f));
        settle();
        setupDone();
        fSlot = MdArrayFill.slot(f);
    }

    /** CPU 0: the call of {@code f} that takes the interrupt. */
    final void call(III_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            long v = callInterrupted(cpu);
            r.r1 = v == FREED ? 2 : v != BODY || p > 1 ? 3 : q > 0 ? 1 : 0;
        }
    }

    /** The writer: detaches f and attaches g while CPU 0 is in the window. */
    final void write() {
        missed = !updateInWindow(() -> {
            fLink.close();
            attachMulti(prog("stale_g", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> {
                q++;
                return 0;
            }), List.of(g));
            gSlot = MdArrayFill.slot(g);
        });
    }

    final void check(III_Result r) {
        if (missed) {
            r.r1 = 4;
        }
        int s = gSlot;
        r.r2 = s < 0 ? 2 : s == fSlot ? 1 : 0;
        r.r3 = finish();
        if (residue(r, "0, 0, 0")) {
            r.r3 = Residue.VALUE;
        }
    }
}

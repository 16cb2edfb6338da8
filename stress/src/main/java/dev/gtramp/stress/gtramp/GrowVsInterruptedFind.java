package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.List;
import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>Md array growth under a caller that loaded the old array: the caller finds its md there, and
 * the old array outlives it.</b>
 *
 * <pre>
 *   cpu 0                                      writer
 *   r = f()                                    wait until cpu 0 is in the window
 *     bpf_global_caller: rcu_read_lock,        attach g's tracing multi link (program Q):
 *       kfunc_md_get_rcu:                        kfunc_md_create: g's md needs slot 42, the
 *         insn = *(ip - 16): mov $41, %eax         array has 42: grow to 84: copy the slots,
 *         mds = rcu_dereference(kfunc_mds)         publish the new array, free the old one
 *         -- interrupt: spins until the            (call_rcu)
 *            writer is done --                   mov $42 into g's padding
 *         md = mds[41]                         let cpu 0 go on
 *       fentry programs of md: P               arbiter: run the callbacks left; r3 = KASAN
 *     f's body
 * </pre>
 *
 * The first md array has {@code PAGE_SIZE / sizeof(struct kfunc_md)} = 42 slots, all in use: 41
 * other functions' mds, then {@code f}'s, with a fentry.multi program P, in the last. CPU 0's call of
 * {@code f} decodes slot 41 and loads the array, then takes an interrupt, during which the writer
 * attaches one more function, whose md grows the array; then the call reads slot 41 of the array it
 * loaded. The writer runs no callback while the call is in its read-side section.
 *
 * <p>The hazard: the array the caller loaded is replaced under it. Growth copies every used slot
 * into the new array before publishing it, and frees the old one after an RCU grace period, which
 * waits for this call; so the call finds {@code f}'s md in the old array and runs P. Growth that
 * frees the old array at once ({@code kfree} for {@code kfree_rcu}) frees it under the call, which
 * reads its md from freed memory.
 *
 * <p>Outcomes {@code (r1, r2, r3)}: {@code r1} is CPU 0's call: 0 it returned the body's value having
 * run P once, 1 it ran no P (found no md), 2 it read freed memory, 3 it failed otherwise or ran P
 * twice, 4 it never reached the window; {@code r2}: 0 {@code g}'s md is past the first array (the
 * array grew), 1 it is not, 2 the writer did not attach {@code g}; {@code r3}: 1 if KASAN reported
 * anything by the end of the trial.
 * <ul>
 *   <li>{@code 0, 0, 0}: the call found its md in the array it loaded, freed after the call;</li>
 *   <li>{@code 2, *, *}: FORBIDDEN, the old array was freed under the call;</li>
 *   <li>{@code 0, 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link PaddingMdArrayFreeAtOnceBroken}, which must show {@code 2, 0, 1}. The same
 * growth races calls back to back in {@link GrowVsCall}.
 */
@Description("md array growth under a caller that loaded the old array: its md is found there")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "the call found its md in the old array, freed after the call")
@Outcome(id = "0, 0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "2, .*", expect = FORBIDDEN, desc = "use after free: the old array was freed under the call")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a missed md, a fault, a stray KASAN report, or no race")
public abstract class GrowVsInterruptedFind extends InterruptedFind {
    private static final long BODY = 7;

    private final KernelFunction g;
    /** Runs of P in CPU 0's call; written and read by CPU 0 only. */
    private int p;
    /** g's slot, written by the writer before the arbiter runs. */
    private volatile int gSlot = -1;
    /** Set by the writer if CPU 0 never reached the window; the arbiter reports it as {@code r1 = 4}. */
    private volatile boolean missed;

    GrowVsInterruptedFind(Set<UnsafeVariant> unsafe) {
        super(MdArrayFill.IMAGE, unsafe);
        List<KernelFunction> others = MdArrayFill.others(kernel, f);
        g = others.get(others.size() - 1);
        f.setBody(frame -> BODY);
        attachMulti(prog("fill", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> 0), others.subList(0, others.size() - 1));
        attachMulti(prog("grow_f", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> {
            p++;
            return 0;
        }), List.of(f));
        settle();
        setupDone();
    }

    /** CPU 0: the call of {@code f} that takes the interrupt. */
    final void call(III_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            long v = callInterrupted(cpu);
            r.r1 = v == FREED ? 2 : v != BODY || p > 1 ? 3 : p == 0 ? 1 : 0;
        }
    }

    /** The writer: attaches g, whose md grows the array, while CPU 0 is in the window. */
    final void write() {
        missed = !updateInWindow(() -> {
            attachMulti(prog("grow_g", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> 0), List.of(g));
            gSlot = MdArrayFill.slot(g);
        });
    }

    final void check(III_Result r) {
        if (missed) {
            r.r1 = 4;
        }
        int s = gSlot;
        r.r2 = s < 0 ? 2 : s >= MdArrayFill.FIRST_ARRAY_SLOTS ? 0 : 1;
        r.r3 = finish();
        if (residue(r, "0, 0, 0")) {
            r.r3 = Residue.VALUE;
        }
    }
}

package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.PaddingInsn;
import dev.gtramp.kernel.btf.FunctionPrototype;
import dev.gtramp.kernel.image.KernelImage;

import java.util.List;

/**
 * What the growth tests of the padding md index share: an image with enough functions
 * {@code bpf_global_caller} serves to fill the first md array, and the functions to fill it with.
 */
final class MdArrayFill {
    /** The first array's slots, {@code PAGE_SIZE / sizeof(struct kfunc_md)} ({@code PaddingMdIndex.INITIAL_SLOTS}). */
    static final int FIRST_ARRAY_SLOTS = 4096 / 96;
    /** 64 synthetic functions, of which more than {@link #FIRST_ARRAY_SLOTS} have at most six argument registers. */
    static final KernelImage IMAGE = KernelImage.synthetic(64, 1);

    private MdArrayFill() {
    }

    /**
     * The functions other than {@code f} that the global caller serves, in image order: the first
     * {@code FIRST_ARRAY_SLOTS - 1} fill the array up to {@code f}'s slot, the last; the one after
     * them is the one whose md grows it.
     */
    static List<KernelFunction> others(Kernel kernel, KernelFunction f) {
        List<KernelFunction> all = kernel.functions().stream()
                .filter(fn -> fn != f && fn.prototype().argRegs() <= FunctionPrototype.MAX_BPF_FUNC_REG_ARGS)
                .limit(FIRST_ARRAY_SLOTS)
                .toList();
        if (all.size() < FIRST_ARRAY_SLOTS) {
            throw new IllegalStateException("the image has too few functions the global caller serves: " + all.size());
        }
        return all;
    }

    /** The slot in {@code fn}'s padding, or -1 for NOPs. */
    static int slot(KernelFunction fn) {
        long insn = fn.site().padding();
        return PaddingInsn.isMovEax(insn) ? PaddingInsn.imm32(insn) : -1;
    }
}

package dev.gtramp.ftrace;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.PaddingInsn;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kfunc_md_arch_poke}: the md index poked into a function's padding, one sync per call or per batch. */
class TextPokePaddingTest {
    private final Kernel kernel = Kernel.boot(KernelImage.linux618());
    private final Ftrace ftrace = Ftrace.of(kernel);
    private final KernelFunction test1 = kernel.function("bpf_fentry_test1");
    private final KernelFunction test2 = kernel.function("bpf_fentry_test2");
    private final KernelFunction test3 = kernel.function("bpf_fentry_test3");

    @AfterEach
    void shutdown() {
        kernel.close();
    }

    private KernelFunction withoutPadding() {
        return kernel.functions().stream()
                .filter(f -> f.site().paddingBytes() < PaddingInsn.PADDING_BYTES && f.site().function() == f)
                .findFirst().orElseThrow();
    }

    @Test
    void onePokeAndOneSyncPerFunction() {
        FtraceCosts before = ftrace.costs();
        long syncs = kernel.coreSyncCount();
        ftrace.textPokePadding(test1, PaddingInsn.movEaxImm32(7));
        FtraceCosts cost = ftrace.costs().minus(before);
        assertEquals(7, PaddingInsn.imm32(test1.site().padding()));
        assertTrue(PaddingInsn.isMovEax(test1.site().padding()));
        assertEquals(1, cost.get(Cost.TEXT_POKES));
        assertEquals(1, cost.get(Cost.CORE_SYNCS));
        assertEquals(0, cost.get(Cost.POKE_BATCHES), "no text_poke_bp_batch: the padding is not executed");
        assertEquals(0, cost.get(Cost.SITES_PATCHED));
        assertEquals(syncs + 1, kernel.coreSyncCount());
        assertTrue(test1.site().isNop(), "the entry instruction is untouched");

        ftrace.textPokePadding(test1, PaddingInsn.NOP_WORD);
        assertEquals(PaddingInsn.NOP_WORD, test1.site().padding());
    }

    @Test
    void aBatchPokesEveryFunctionAndSyncsOnce() {
        FtraceCosts before = ftrace.costs();
        ftrace.textPokePaddingBatch(List.of(test1, test2, test3),
                new long[] {PaddingInsn.movEaxImm32(1), PaddingInsn.movEaxImm32(2), PaddingInsn.movEaxImm32(3)});
        FtraceCosts cost = ftrace.costs().minus(before);
        assertEquals(3, cost.get(Cost.TEXT_POKES));
        assertEquals(1, cost.get(Cost.CORE_SYNCS));
        assertEquals(1, PaddingInsn.imm32(test1.site().padding()));
        assertEquals(2, PaddingInsn.imm32(test2.site().padding()));
        assertEquals(3, PaddingInsn.imm32(test3.site().padding()));

        before = ftrace.costs();
        ftrace.textPokePaddingBatch(List.of(), new long[0]);
        assertEquals(0, ftrace.costs().minus(before).get(Cost.CORE_SYNCS), "nothing to poke, nothing to sync");
    }

    @Test
    void aBatchWithAFunctionWithoutPaddingWritesNothing() {
        KernelFunction bare = withoutPadding();
        FtraceCosts before = ftrace.costs();
        KernelException e = assertThrows(KernelException.class, () -> ftrace.textPokePaddingBatch(
                List.of(test1, bare), new long[] {PaddingInsn.movEaxImm32(1), PaddingInsn.movEaxImm32(2)}));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains(bare.name()), e.getMessage());
        assertEquals(PaddingInsn.NOP_WORD, test1.site().padding(), "checked before the first poke");
        assertEquals(0, ftrace.costs().minus(before).get(Cost.TEXT_POKES));
        assertEquals(0, ftrace.costs().minus(before).get(Cost.CORE_SYNCS));

        e = assertThrows(KernelException.class, () -> ftrace.textPokePadding(bare, PaddingInsn.movEaxImm32(1)));
        assertEquals(Errno.EINVAL, e.errno());
    }

    @Test
    void badArgumentsAreRefusedBeforeAnyPoke() {
        assertEquals(Errno.EINVAL, assertThrows(KernelException.class, () -> ftrace.textPokePaddingBatch(
                List.of(test1, test2), new long[] {PaddingInsn.movEaxImm32(1)})).errno());
        assertEquals(Errno.EINVAL, assertThrows(KernelException.class,
                () -> ftrace.textPokePadding(test1, 0xE8)).errno());
        try (Kernel other = Kernel.boot(KernelImage.synthetic(16, 1))) {
            KernelFunction foreign = other.functions().get(0);
            KernelException e = assertThrows(KernelException.class,
                    () -> ftrace.textPokePadding(foreign, PaddingInsn.movEaxImm32(1)));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains(foreign.name()), e.getMessage());
        }
        assertEquals(PaddingInsn.NOP_WORD, test1.site().padding());
        assertEquals(0, ftrace.costs().get(Cost.TEXT_POKES));
    }
}

package dev.gtramp.kernel.text;

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
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code kfunc_md_arch_poke}: the md index poked into a function's padding, one sync per call or per batch. */
class TextPokePaddingTest {
    private final Kernel kernel = Kernel.boot(KernelImage.linux618());
    private final TextPoker poker = TextPoker.of(kernel);
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
    void onePerKernel() {
        assertSame(poker, TextPoker.of(kernel));
    }

    @Test
    void onePokeAndOneSyncPerFunction() {
        long pokes = poker.textPokes();
        long coreSyncs = poker.coreSyncs();
        long batches = poker.pokeBatches();
        long sites = poker.sitesPatched();
        long syncs = kernel.coreSyncCount();
        poker.pokePadding(test1, PaddingInsn.movEaxImm32(7));
        assertEquals(7, PaddingInsn.imm32(test1.site().padding()));
        assertTrue(PaddingInsn.isMovEax(test1.site().padding()));
        assertEquals(1, poker.textPokes() - pokes);
        assertEquals(1, poker.coreSyncs() - coreSyncs);
        assertEquals(0, poker.pokeBatches() - batches, "no text_poke_bp_batch: the padding is not executed");
        assertEquals(0, poker.sitesPatched() - sites);
        assertEquals(syncs + 1, kernel.coreSyncCount());
        assertTrue(test1.site().isNop(), "the entry instruction is untouched");

        poker.pokePadding(test1, PaddingInsn.NOP_WORD);
        assertEquals(PaddingInsn.NOP_WORD, test1.site().padding());
    }

    @Test
    void aBatchPokesEveryFunctionAndSyncsOnce() {
        long pokes = poker.textPokes();
        long coreSyncs = poker.coreSyncs();
        poker.pokePaddingBatch(List.of(test1, test2, test3),
                new long[] {PaddingInsn.movEaxImm32(1), PaddingInsn.movEaxImm32(2), PaddingInsn.movEaxImm32(3)});
        assertEquals(3, poker.textPokes() - pokes);
        assertEquals(1, poker.coreSyncs() - coreSyncs);
        assertEquals(1, PaddingInsn.imm32(test1.site().padding()));
        assertEquals(2, PaddingInsn.imm32(test2.site().padding()));
        assertEquals(3, PaddingInsn.imm32(test3.site().padding()));

        coreSyncs = poker.coreSyncs();
        poker.pokePaddingBatch(List.of(), new long[0]);
        assertEquals(0, poker.coreSyncs() - coreSyncs, "nothing to poke, nothing to sync");
    }

    @Test
    void aBatchWithAFunctionWithoutPaddingWritesNothing() {
        KernelFunction bare = withoutPadding();
        long pokes = poker.textPokes();
        long coreSyncs = poker.coreSyncs();
        KernelException e = assertThrows(KernelException.class, () -> poker.pokePaddingBatch(
                List.of(test1, bare), new long[] {PaddingInsn.movEaxImm32(1), PaddingInsn.movEaxImm32(2)}));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains(bare.name()), e.getMessage());
        assertEquals(PaddingInsn.NOP_WORD, test1.site().padding(), "checked before the first poke");
        assertEquals(0, poker.textPokes() - pokes);
        assertEquals(0, poker.coreSyncs() - coreSyncs);

        e = assertThrows(KernelException.class, () -> poker.pokePadding(bare, PaddingInsn.movEaxImm32(1)));
        assertEquals(Errno.EINVAL, e.errno());
    }

    @Test
    void badArgumentsAreRefusedBeforeAnyPoke() {
        assertEquals(Errno.EINVAL, assertThrows(KernelException.class, () -> poker.pokePaddingBatch(
                List.of(test1, test2), new long[] {PaddingInsn.movEaxImm32(1)})).errno());
        assertEquals(Errno.EINVAL, assertThrows(KernelException.class,
                () -> poker.pokePadding(test1, 0xE8)).errno());
        try (Kernel other = Kernel.boot(KernelImage.synthetic(16, 1))) {
            KernelFunction foreign = other.functions().get(0);
            KernelException e = assertThrows(KernelException.class,
                    () -> poker.pokePadding(foreign, PaddingInsn.movEaxImm32(1)));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains(foreign.name()), e.getMessage());
        }
        assertEquals(PaddingInsn.NOP_WORD, test1.site().padding());
        assertEquals(0, poker.textPokes());
    }
}

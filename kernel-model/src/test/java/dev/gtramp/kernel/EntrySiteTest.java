package dev.gtramp.kernel;

import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Entry sites as bytes: torn instructions fault, an int3 needs the patcher, syncs are counted. */
class EntrySiteTest {
    @Test
    void aMixOfOldAndNewBytesIsAnOops() {
        try (Kernel kernel = Kernel.boot(KernelImage.linux618())) {
            KernelFunction f = kernel.function("bpf_fentry_test1");
            CallTarget t = frame -> 5;
            f.site().pokeOpcode(EntrySite.CALL);
            try (Cpu cpu = kernel.bindCpu(0)) {
                KernelException e = assertThrows(KernelException.class, () -> cpu.call(f, 1));
                assertEquals(Errno.EFAULT, e.errno());
                assertTrue(e.getMessage().contains("bpf_fentry_test1"), e.getMessage());
                f.site().pokeOperand(t);
                assertEquals(5, cpu.call(f, 1));
                f.site().pokeOpcode(EntrySite.NOP);
                e = assertThrows(KernelException.class, () -> cpu.call(f, 1));
                assertTrue(e.getMessage().contains("torn instruction"), e.getMessage());
                assertEquals(0, cpu.depth(), "the fault unwound the call");
            }
            assertTrue(kernel.log().entries().stream().anyMatch(x -> x.message().contains("general protection fault")));
        }
    }

    @Test
    void int3WithoutAPatcherIsAnOopsAndTheHandlerIsInstalledOnce() {
        try (Kernel kernel = Kernel.boot(KernelImage.linux618())) {
            KernelFunction f = kernel.function("bpf_fentry_test1");
            f.site().pokeOpcode(EntrySite.INT3);
            try (Cpu cpu = kernel.bindCpu(0)) {
                assertThrows(KernelException.class, () -> cpu.call(f, 1));
                kernel.installInt3Handler(frame -> fr -> 9);
                assertEquals(9, cpu.call(f, 1));
            }
            KernelException e = assertThrows(KernelException.class, () -> kernel.installInt3Handler(frame -> fr -> 1));
            assertEquals(Errno.EBUSY, e.errno());
        }
    }

    @Test
    void writeIsWholeInstructionAndSyncsAreCounted() {
        try (Kernel kernel = Kernel.boot(KernelImage.linux618())) {
            EntrySite site = kernel.function("bpf_fentry_test1").site();
            CallTarget t = frame -> 5;
            site.write(t);
            assertSame(t, site.read());
            site.write(null);
            assertNull(site.read());
            assertTrue(site.isNop());
            long before = kernel.coreSyncCount();
            kernel.syncCores();
            assertEquals(before + 1, kernel.coreSyncCount());
        }
    }

    @Test
    void paddingStartsAsNopsAndHoldsTheMovThatIsPoked() {
        try (Kernel kernel = Kernel.boot(KernelImage.linux618())) {
            EntrySite site = kernel.function("bpf_fentry_test1").site();
            assertEquals(PaddingInsn.PADDING_BYTES, site.paddingBytes());
            assertEquals(PaddingInsn.NOP_WORD, site.padding());
            assertFalse(PaddingInsn.isMovEax(site.padding()));
            assertEquals("90 90 90 90 90", PaddingInsn.toString(site.padding()));

            site.pokePadding(PaddingInsn.movEaxImm32(0x12345678));
            assertTrue(PaddingInsn.isMovEax(site.padding()));
            assertEquals(0x12345678, PaddingInsn.imm32(site.padding()));
            assertEquals("b8 78 56 34 12", PaddingInsn.toString(site.padding()), "little-endian, as in memory");
            site.pokePadding(PaddingInsn.movEaxImm32(-1));
            assertEquals(-1, PaddingInsn.imm32(site.padding()), "the full unsigned 32 bits");
            site.pokePadding(PaddingInsn.NOP_WORD);
            assertEquals(PaddingInsn.NOP_WORD, site.padding());
        }
    }

    @Test
    void aFunctionWithoutPaddingOrAnInstructionThatIsNotAMovIsRefused() {
        try (Kernel kernel = Kernel.boot(KernelImage.linux618())) {
            KernelFunction bare = kernel.functions().stream()
                    .filter(f -> f.site().paddingBytes() < PaddingInsn.PADDING_BYTES && f.site().function() == f)
                    .findFirst().orElseThrow();
            KernelException e = assertThrows(KernelException.class,
                    () -> bare.site().pokePadding(PaddingInsn.movEaxImm32(1)));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains(bare.name()), e.getMessage());
            assertEquals(PaddingInsn.NOP_WORD, bare.site().padding());

            EntrySite site = kernel.function("bpf_fentry_test1").site();
            for (long bad : new long[] {0xE8, PaddingInsn.movEaxImm32(1) | (1L << 40), 0x90}) {
                e = assertThrows(KernelException.class, () -> site.pokePadding(bad));
                assertEquals(Errno.EINVAL, e.errno());
                assertTrue(e.getMessage().contains("bpf_fentry_test1"), e.getMessage());
            }
            assertEquals(PaddingInsn.NOP_WORD, site.padding());
        }
    }

    @Test
    void subsystemsAreCreatedOncePerKernel() {
        try (Kernel a = Kernel.boot(KernelImage.linux618()); Kernel b = Kernel.boot(KernelImage.linux618())) {
            Object x = a.subsystem(StringBuilder.class, k -> new StringBuilder("a"));
            assertSame(x, a.subsystem(StringBuilder.class, k -> new StringBuilder("again")));
            assertEquals("b", b.subsystem(StringBuilder.class, k -> new StringBuilder("b")).toString());
        }
    }
}

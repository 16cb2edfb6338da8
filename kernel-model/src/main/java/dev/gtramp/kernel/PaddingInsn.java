package dev.gtramp.kernel;

/**
 * The 5-byte instruction at the head of a function's padding, as one {@code long}: the opcode byte
 * in bits 0 to 7 and its 32-bit immediate in bits 8 to 39, the order of the bytes in memory. At boot
 * the padding is {@code nop}s ({@link #NOP_WORD}); the per-function storage of Menglong Dong's v4
 * ({@code kfunc_md_arch_poke}) writes
 * {@code mov $index, %eax} ({@code b8} and the index) there, so that the global trampoline finds a
 * function's {@code kfunc_md} index without hashing:
 * {@code if (*(u8 *)(ip - insn_off) == 0xB8) index = *(u32 *)(ip - data_off)}.
 *
 * <p>Only the text-patching layer writes padding ({@link EntrySite#pokePadding}); the words here are
 * plain values.
 */
public final class PaddingInsn {
    /** The bytes of padding a function needs for the instruction: {@code CONFIG_FUNCTION_PADDING_BYTES=16}. */
    public static final int PADDING_BYTES = 16;
    /** {@code nop} ({@code 90}). */
    public static final int NOP = 0x90;
    /** {@code mov $imm32, %eax} ({@code b8 imm32}). */
    public static final int MOV_EAX_IMM32 = 0xB8;
    /** Five {@code nop}s: what the padding holds at boot. */
    public static final long NOP_WORD = 0x90_9090_9090L;

    private static final long MASK = 0xFF_FFFF_FFFFL;

    private PaddingInsn() {
    }

    /** {@code mov $index, %eax}, the word {@code kfunc_md_arch_poke} writes for the md at {@code index}. */
    public static long movEaxImm32(int index) {
        return MOV_EAX_IMM32 | (Integer.toUnsignedLong(index) << 8);
    }

    /** The opcode byte of {@code word}. */
    public static int opcode(long word) {
        return (int) (word & 0xFF);
    }

    /** Whether {@code word} is {@code mov $imm32, %eax}: the reader's test of the first byte. */
    public static boolean isMovEax(long word) {
        return opcode(word) == MOV_EAX_IMM32;
    }

    /** The 32-bit immediate of {@code word}: the md's index after a {@code mov}. */
    public static int imm32(long word) {
        return (int) (word >>> 8);
    }

    /** Whether {@code word} is an instruction the padding may hold: the {@code nop}s or a {@code mov}. */
    public static boolean isValid(long word) {
        return (word & ~MASK) == 0 && (word == NOP_WORD || isMovEax(word));
    }

    /** The word in the order of an objdump line, e.g. {@code "b8 2a 00 00 00"}. */
    public static String toString(long word) {
        StringBuilder sb = new StringBuilder(14);
        for (int i = 0; i < 5; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(String.format("%02x", (word >>> (8 * i)) & 0xFF));
        }
        return sb.toString();
    }
}

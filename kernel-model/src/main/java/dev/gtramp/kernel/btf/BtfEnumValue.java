package dev.gtramp.kernel.btf;

import java.util.Objects;

/**
 * One enumerator of an {@code ENUM} ({@code struct btf_enum}) or {@code ENUM64}
 * ({@code struct btf_enum64}).
 *
 * <p>{@code value} holds the 64-bit pattern: for a signed enum (the type's {@code kind_flag} set) it
 * is the value itself; for an unsigned one it is the value's bits, so a {@code u64} above
 * {@link Long#MAX_VALUE} reads negative here (use {@link Long#toUnsignedString(long)}). A 32-bit
 * {@code ENUM} value is sign- or zero-extended according to the same flag.
 *
 * @param name  the enumerator name
 * @param value the value's 64-bit pattern
 */
public record BtfEnumValue(String name, long value) {
    public BtfEnumValue {
        Objects.requireNonNull(name, "name");
    }
}

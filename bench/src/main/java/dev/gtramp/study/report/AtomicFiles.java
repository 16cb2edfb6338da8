package dev.gtramp.study.report;

import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Writes a file whole or not at all: the content goes to a temporary file in the target's own
 * directory, is forced to the disk, and is then renamed over the target ({@code ATOMIC_MOVE}), so a
 * reader, or a study interrupted while writing, only ever sees the previous complete file or the
 * new complete file. Creates missing parent directories.
 */
final class AtomicFiles {
    /** Writes text to a writer; may throw. */
    @FunctionalInterface
    interface Content {
        void writeTo(Writer w) throws IOException;
    }

    private AtomicFiles() {
    }

    /** Writes {@code text}, UTF-8, to {@code file} atomically. */
    static void write(Path file, String text) throws IOException {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes what {@code content} writes, UTF-8, to {@code file} atomically. */
    static void write(Path file, Content content) throws IOException {
        writeBytes(file, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            content.writeTo(w);
            w.flush();
        });
    }

    /** Writes {@code bytes} to {@code file} atomically. */
    static void write(Path file, byte[] bytes) throws IOException {
        writeBytes(file, out -> out.write(bytes));
    }

    private interface Bytes {
        void writeTo(OutputStream out) throws IOException;
    }

    private static void writeBytes(Path file, Bytes content) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = null;
        FileChannel ch = null;
        for (int attempt = 0; ch == null; attempt++) {
            tmp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
            try {
                ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
            }
        }
        boolean moved = false;
        try {
            try (FileChannel c = ch; OutputStream out = Channels.newOutputStream(c)) {
                content.writeTo(out);
                out.flush();
                c.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }
}

package org.projntk.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The write path of a store, injectable so tests can make it fail. Writes are positional (never a writable mmap). */
interface StoreIo {
    WritableFile open(Path file) throws IOException;

    interface WritableFile extends Closeable {
        /** Writes all of buf at position (may write part of it and then throw). */
        void write(ByteBuffer buf, long position) throws IOException;

        /** Flushes data to the device (fdatasync). */
        void force() throws IOException;
    }

    StoreIo DEFAULT = file -> {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        return new WritableFile() {
            @Override
            public void write(ByteBuffer buf, long position) throws IOException {
                long at = position;
                while (buf.hasRemaining()) at += ch.write(buf, at);
            }

            @Override
            public void force() throws IOException {
                ch.force(false);
            }

            @Override
            public void close() throws IOException {
                ch.close();
            }
        };
    };
}

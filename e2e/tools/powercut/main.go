// Command powercut mounts a FUSE filesystem that mirrors a backing folder the way a disk with a
// volatile write cache would, so that a test can cut the power and then look at exactly what a
// machine would find after the outage: the backing folder.
//
//	powercut [-ordered] [-stdin] [-debug] BACKING MOUNTPOINT
//
// It prints "ready" once mounted. SIGUSR1, or a "cut" line on stdin with -stdin, cuts the
// power: everything not yet durable is dropped at once, every later request fails with EIO, and
// "cut" is printed. SIGTERM, SIGINT, an "exit" line or the end of stdin (-stdin) unmount and
// exit; a new instance over the same backing folder then shows the state after the outage.
//
// The model, and why it is this one:
//   - File data written and not yet fsynced or fdatasynced stays in this process's memory;
//     reads see it, as they would see the page cache. fsync or fdatasync writes it to the
//     backing file. Closing a file makes nothing durable (ext4 may flush early on close after
//     a truncate; relying on that is a bug, so it is not modelled).
//   - Namespace changes (create, mkdir, link, unlink, rmdir, rename) become durable when their
//     directory is fsynced: its entries in the backing folder are then made equal to the ones
//     seen through the mount. By default nothing else makes them durable: fsyncing a new file
//     does not make its name durable and fsyncing a new directory does not make its entry in
//     its parent durable. That is what POSIX and fsync(2) promise ("an explicit fsync() on a
//     file descriptor for the directory is also needed") and stricter than ext4 or XFS, where
//     one fsync commits the whole metadata journal, earlier changes everywhere included.
//     -ordered models those: any fsync or fdatasync makes every earlier namespace change
//     durable (ext4 skips the commit for an fdatasync that changed no metadata; this does not).
//   - A rename between two directories becomes durable as a whole when either is fsynced:
//     every journaling filesystem logs it as one transaction, and a model that could lose both
//     names (or keep both) would report losses no real disk has.
//   - Reads and writes: every open file is answered with direct I/O (FOPEN_DIRECT_IO), so each
//     read and write of file data comes here and this process is the one cache, as the page
//     cache is on a local disk. Through the kernel's own cache of a FUSE file, a read that
//     raced with its readahead could return bytes an earlier write had already replaced, and
//     keep returning them: measured on this machine's kernel, a reader following a writer over
//     a file being written over saw the old bytes of a completed write about once in twenty
//     passes (none on ext4, none with readahead off). Remap's journal files are written over
//     (spares) and its uploader reads records just written, so a test on this filesystem could
//     find a segment holding a record's old bytes: a fault of the test's filesystem, not of
//     a disk. With it, a shared memory map of a file fails (ENODEV); nothing run on this maps one.
//   - A cut keeps nothing unsynced, not even part of it. That finds lost writes; it does not
//     find what early write-back or a torn write could cause (a crash test with SIGKILL covers
//     what the page cache keeps).
//
// The backing folder holds the durable tree, plus .powercut/ while mounted: one hard link per
// file inode, so that an inode whose name is not durable yet can already hold durable data, and
// the directories that are not linked durably yet. An inode no durable name reaches is freed by
// a real filesystem after a crash; so .powercut/ is removed at unmount and at start (until then
// it also keeps deleted files' data: a mount is meant for one test run between two cuts).
//
// Not supported (nothing that uses this needs them): symlinks, device nodes, extended
// attributes, RENAME_EXCHANGE, file locks (the kernel keeps them locally); mode and time
// changes are kept in memory only.
//
// Locking: one mutex over the whole tree. A request holds it from start to end, so a cut falls
// between requests, never inside one (an fsync is durable entirely or not at all).
//
// Files: main.go is the wiring (flags, mount, cut and exit), model.go the model, requests.go the
// FUSE requests.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

func main() {
	ordered := flag.Bool("ordered", false, "any fsync makes every earlier namespace change durable (ext4, XFS)")
	stdin := flag.Bool("stdin", false, "take \"cut\" and \"exit\" lines on stdin; its end unmounts too")
	debug := flag.Bool("debug", false, "log every FUSE request")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: powercut [-ordered] [-stdin] [-debug] BACKING MOUNTPOINT")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	log.SetPrefix("powercut: ")
	log.SetFlags(0)
	backing, err := filepath.Abs(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	fs, err := newPowercut(backing, *ordered)
	if err != nil {
		log.Fatalf("cannot prepare %s: %v", backing, err)
	}
	server, err := fuse.NewServer(fs, flag.Arg(1), &fuse.MountOptions{
		FsName: backing, Name: "powercut", DisableXAttrs: true, DisableReadDirPlus: true,
		DirectMount: true, Debug: *debug,
	})
	if err != nil {
		log.Fatalf("cannot mount %s: %v", flag.Arg(1), err)
	}
	go server.Serve()
	if err := server.WaitMount(); err != nil {
		log.Fatalf("mount of %s did not come up: %v", flag.Arg(1), err)
	}

	cut := make(chan bool, 1) // true: cut, false: exit
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range signals {
			cut <- s == syscall.SIGUSR1
		}
	}()
	if *stdin {
		go func() {
			lines := bufio.NewScanner(os.Stdin)
			for lines.Scan() {
				switch lines.Text() {
				case "cut":
					cut <- true
				case "exit":
					cut <- false
				}
			}
			cut <- false
		}()
	}
	fmt.Println("ready")
	for <-cut {
		fs.cut()
		fmt.Println("cut")
	}
	code := 0
	if err := server.Unmount(); err != nil {
		// Still busy (a process holds a file open): detach it, so that no test leaves a mount behind.
		log.Printf("unmount failed (%v): detaching it", err)
		if err := syscall.Unmount(flag.Arg(1), syscall.MNT_DETACH); err != nil {
			log.Printf("cannot detach %s: %v", flag.Arg(1), err)
			code = 1
		}
	}
	if err := os.RemoveAll(filepath.Join(backing, staging)); err != nil {
		log.Print(err)
		code = 1
	}
	os.Exit(code)
}

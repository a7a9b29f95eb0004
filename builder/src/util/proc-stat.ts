// /proc/<pid>/stat is "pid (comm) state ppid ...", and comm may hold spaces and ')': the fields
// are the ones after the last ')'. Index 0 is the state (field 3 in proc(5)), so field N of
// proc(5) is at index N - 3.
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

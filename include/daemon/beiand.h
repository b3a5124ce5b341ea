/*
 * beiand: the daemon (DESIGN.md, Command line: beiand [-c FILE] [-f] [-n]).
 */
#ifndef BEIAND_BEIAND_H
#define BEIAND_BEIAND_H

int beiand_main(int argc, char **argv);

#endif

/*
 * web: beiand-web, the staff console (DESIGN.md "Staff console").
 */
#ifndef BEIAND_WEB_H
#define BEIAND_WEB_H

/* beiand-web [-c FILE] [-f] [-n] [-V]: the program's main. */
int web_main(int argc, char **argv);

#endif

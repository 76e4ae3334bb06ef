//! Trust lists (DESIGN 3.6). INTERIM: being written (issue 4).

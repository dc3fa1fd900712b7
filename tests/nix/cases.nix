# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What nix/lib.nix must accept and refuse, from vfio-bind.conf(5). check.sh also runs every case
# through `vfio-bindd --validate` when it is given one (VFIO_BINDD=), so the two parsers cannot
# drift apart.
{
  # selector → its kind ("address", "slot", "id"), or null when it is an error.
  selectors = {
    "0000:0f:00.0" = "address";
    "0f:00.0" = "address";
    "0F:1F.7" = "address";
    "f:0.0" = "address";
    "0:0:0.0" = "address";
    "ffff:ff:1f.7" = "address";
    # PCI domains above ffff (Intel VMD): 1 to 8 digits, 0 to ffffffff
    "10000:e1:00.0" = "address";
    "10000:E1:00.0" = "address";
    "1abcd:1:2.3" = "address";
    "ffffffff:ff:1f.7" = "address";
    "00010000:e1:00.0" = "address";
    "00000:0f:00.0" = "address";
    "10000:e0:1d" = "slot";
    "ffffffff:ff:1f" = "slot";
    "0000:0f:00" = "slot";
    "0f:00" = "slot";
    "01:00" = "slot";
    "10de:13c0" = "id";
    "10DE:0FBB" = "id";
    # the errors named in vfio-bind.conf(5)
    "0g:00.0" = null;
    "0000:100:00.0" = null;
    "0f:20.0" = null;
    "0f:00.8" = null;
    "10de" = null;
    "10de:13c" = null;
    "000000000:0f:00.0" = null;
    "100000000:e1:00.0" = null;
    "0f:00.0x" = null;
    # more typos
    "" = null;
    "0f:00." = null;
    "0f:00.07" = null;
    "0f:000.0" = null;
    ":0f:00.0" = null;
    "0000:0f" = null;
    "0f:" = null;
    ":00" = null;
    "1de:13c0" = null;
    "10de:13c0.0" = null;
    "0000:10de:13c0" = null;
    "0000:0000:0f:00.0" = null;
    " 0f:00.0" = null;
    "0f:00.0 0f:00.1" = null;
    "0f-00.0" = null;
    "fffffffff:ff:1f" = null;
    "000010000:e1:00.0" = null;
    "1000g:e1:00.0" = null;
    "10000:e1" = null;
    "10000:e1:20.0" = null;
    "10000:100:00.0" = null;
    "10000:e1:00.8" = null;
    "10000::e1:00.0" = null;
    "0x10000:e1:00.0" = null;
  };

  # Timeout= value → microseconds, or null when it is an error (over 300 s included).
  timeouts = {
    "10s" = 10000000;
    "500ms" = 500000;
    "1.5s" = 1500000;
    "1min 30s" = 90000000;
    "1min30s" = 90000000;
    "2m" = 120000000;
    "2" = 2000000;
    "0" = 0;
    "300s" = 300000000;
    "5min" = 300000000;
    "10 s" = 10000000;
    "1.0000005s" = 1000000;
    "4.99999999min" = 299999994;
    "0.08h" = 288000000;
    "250msec 750usec" = 250750;
    "301s" = null;
    "5min 1us" = null;
    "300.000001s" = null;
    "0.1h" = null;
    "-1" = null;
    "infinity" = null;
    "1." = null;
    ".5s" = null;
    "10S" = null;
    "1d" = null;
    "1second" = null;
    "1e3ms" = null;
    "" = null;
    "1m s" = null;
    "10s # comment" = null;
  };

  # Values the file syntax reads differently from the option, so they are not cross-checked with
  # vfio-bindd --validate: blanks around a value are dropped, blanks separate Device= selectors
  # (an option list entry is one selector), " #" starts a comment.
  fileSyntax = [
    " 0f:00.0"
    "0f:00.0 0f:00.1"
    "10s # comment"
  ];

  # Timeout= given as an integer of seconds.
  timeoutInts = {
    "0" = true;
    "30" = true;
    "300" = true;
    "301" = false;
    "-1" = false;
  };

  drivers = {
    "vfio-pci" = true;
    "pci-stub" = true;
    "vfio_pci.x-1" = true;
    "" = false;
    "." = false;
    ".." = false;
    "../vfio-pci" = false;
    "vfio pci" = false;
    "vfio-pci\n" = false;
    "a234567890123456789012345678901234567890123456789012345678901234" = true;
    "a2345678901234567890123456789012345678901234567890123456789012345" = false;
  };

  # [Handoff] StopUnits= names.
  units = {
    "display-manager.service" = true;
    "nvidia-persistenced.service" = true;
    "pipewire@1000.service" = true;
    "user-1000.slice" = true;
    "session-2.scope" = true;
    "a:b_c-d\\x2d.service" = true;
    "gdm" = false;
    ".service" = false;
    "@.service" = false;
    "a/b.service" = false;
    "x.nope" = false;
    "" = false;
  };

  # Option values → the exact text of /etc/vfio-bind.conf.
  configs = {
    # The single-GPU handoff: the display manager and the persistence daemon may be stopped.
    handoff = {
      options = {
        devices = [ "01:00" ];
        driver = "auto";
        group = "take";
        unbindHost = true;
        timeout = "10s";
        releaseConsole = "auto";
        stopUnits = [
          "display-manager.service"
          "nvidia-persistenced.service"
        ];
      };
      text = ''
        # Generated from the NixOS options services.vfio-bind.*; see vfio-bind.conf(5).
        [Bind]
        Device=01:00
        Driver=auto
        Group=take
        UnbindHost=yes
        Timeout=10s

        [Console]
        Release=auto

        [Handoff]
        StopUnits=display-manager.service nvidia-persistenced.service
      '';
    };
    # Two VFs of an 82576 port and one of an NVMe drive, beside a GPU slot.
    sriov = {
      options = {
        devices = [ "0f:00" ];
        virtualFunctions = {
          "0000:03:00.0" = 2;
          "0000:05:00.0" = 1;
        };
        driver = "vfio-pci";
        group = "check";
        unbindHost = true;
        timeout = 10;
        releaseConsole = "auto";
      };
      text = ''
        # Generated from the NixOS options services.vfio-bind.*; see vfio-bind.conf(5).
        [Bind]
        Device=0f:00
        VirtualFunctions=0000:03:00.0 2
        VirtualFunctions=0000:05:00.0 1
        Driver=vfio-pci
        Group=check
        UnbindHost=yes
        Timeout=10s

        [Console]
        Release=auto
      '';
    };
    # A NIC that carries the host's address, passed through on purpose.
    forced = {
      options = {
        devices = [
          "05:00.0"
          "10de:13c0"
        ];
        force = [ "05:00.0" ];
        driver = "vfio-pci";
        group = "ignore";
        unbindHost = true;
        timeout = "1min 30s";
        releaseConsole = "auto";
      };
      text = ''
        # Generated from the NixOS options services.vfio-bind.*; see vfio-bind.conf(5).
        [Bind]
        Device=05:00.0 10de:13c0
        Force=05:00.0
        Driver=vfio-pci
        Group=ignore
        UnbindHost=yes
        Timeout=1min 30s

        [Console]
        Release=auto
      '';
    };
    guide = {
      options = {
        devices = [
          "0000:0f:00.0"
          "0000:0f:00.1"
        ];
        driver = "vfio-pci";
        group = "check";
        unbindHost = true;
        timeout = "10s";
        releaseConsole = "auto";
      };
      text = ''
        # Generated from the NixOS options services.vfio-bind.*; see vfio-bind.conf(5).
        [Bind]
        Device=0000:0f:00.0 0000:0f:00.1
        Driver=vfio-pci
        Group=check
        UnbindHost=yes
        Timeout=10s

        [Console]
        Release=auto
      '';
    };
    # services.vfio-bind.extraConfig: raw lines at the end (a repeatable key, a comment).
    extra = {
      options = {
        devices = [ "0f:00" ];
        driver = "auto";
        group = "check";
        unbindHost = true;
        timeout = "10s";
        releaseConsole = "auto";
        extraConfig = "[Bind]\n# a second card\nDevice=0000:10:00.0 0000:10:00.1";
      };
      text = ''
        # Generated from the NixOS options services.vfio-bind.*; see vfio-bind.conf(5).
        [Bind]
        Device=0f:00
        Driver=auto
        Group=check
        UnbindHost=yes
        Timeout=10s

        [Console]
        Release=auto

        [Bind]
        # a second card
        Device=0000:10:00.0 0000:10:00.1
      '';
    };
    # No devices (the kernel command line adds them): no empty Device= line.
    cmdline = {
      options = {
        devices = [ ];
        driver = "pci-stub";
        group = "take";
        unbindHost = false;
        timeout = 30;
        releaseConsole = "no";
      };
      text = ''
        # Generated from the NixOS options services.vfio-bind.*; see vfio-bind.conf(5).
        [Bind]
        Driver=pci-stub
        Group=take
        UnbindHost=no
        Timeout=30s

        [Console]
        Release=no
      '';
    };
  };
}

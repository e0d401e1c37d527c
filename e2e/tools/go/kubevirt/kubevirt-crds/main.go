// Command kubevirt-crds prints, as one YAML stream, the CustomResourceDefinitions of the KubeVirt
// release this module requires that a lone virt-api needs: the VirtualMachine it patches, and
// the resources it watches at start-up (KubeVirt for its configuration, presets, restores).
// They come from KubeVirt's own definitions, so the API server validates VMs as it would in a
// cluster with KubeVirt installed.
package main

import (
	"fmt"
	"os"

	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"sigs.k8s.io/yaml"

	"kubevirt.io/kubevirt/pkg/virt-operator/resource/generate/components"
)

func main() {
	makers := []func() (*extv1.CustomResourceDefinition, error){
		components.NewKubeVirtCrd,
		components.NewVirtualMachineCrd,
		components.NewVirtualMachineInstanceCrd,
		components.NewPresetCrd,
		components.NewVirtualMachineRestoreCrd,
	}
	for _, make := range makers {
		crd, err := make()
		if err != nil {
			fmt.Fprintf(os.Stderr, "kubevirt-crds: %v\n", err)
			os.Exit(1)
		}
		crd.TypeMeta.APIVersion = "apiextensions.k8s.io/v1"
		crd.TypeMeta.Kind = "CustomResourceDefinition"
		out, err := yaml.Marshal(crd)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kubevirt-crds: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("---\n%s", out)
	}
}
